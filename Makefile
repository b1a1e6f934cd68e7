# Phoenix build, test and local-cloud entry points.
# `make test` and `make demo` are self-contained on a fresh machine: they
# install the pinned Go tools (tools/go.mod) and npm packages they need.

SHELL        := bash
.SHELLFLAGS  := -euo pipefail -c
GO           ?= go
GOTOOL       := $(GO) tool -modfile=tools/go.mod
NPM_DIR      := test/node
NODE_MODULES := $(NPM_DIR)/node_modules/.installed
LOCAL_ADDR   ?= 127.0.0.1:4566
LOCAL_SPEED  ?= 60
PKGS         := ./...

.PHONY: help build test unit lint vet fmt-check local demo bench clean npm

help: ## List the targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

build: ## Build every package and the command binaries into bin/.
	$(GO) build $(PKGS)
	$(GO) build -o bin/phoenix-localcloud ./test/localcloud/cmd/phoenix-localcloud

$(NODE_MODULES): $(NPM_DIR)/package.json $(NPM_DIR)/package-lock.json
	npm ci --prefix $(NPM_DIR) --no-audit --no-fund --loglevel=error
	touch $@

npm: $(NODE_MODULES) ## Install the pinned npm packages (Node 22, dynalite, asl-validator, aws-local-stepfunctions).

vet: ## go vet.
	$(GO) vet $(PKGS)

fmt-check: ## Fail on files gofmt would change.
	@out=$$(gofmt -l $$(git ls-files '*.go') 2>/dev/null); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

lint: fmt-check vet ## gofmt, go vet and golangci-lint (pinned in tools/go.mod).
	$(GOTOOL) golangci-lint run $(PKGS)

unit: $(NODE_MODULES) ## Run the Go tests (race detector on).
	PHOENIX_NODE_DIR=$(CURDIR)/$(NPM_DIR) PHOENIX_REQUIRE_CONFORMANCE=1 \
		$(GOTOOL) gotestsum --format pkgname-and-test-fails -- -race -count=1 $(PKGS)

test: lint unit ## Everything CI runs: lint, unit, conformance and end-to-end tests.
	bash test/smoke/awscli.sh

local: ## Run the local cloud on $(LOCAL_ADDR) in real-time mode (Ctrl-C stops it).
	$(GO) run ./test/localcloud/cmd/phoenix-localcloud -addr $(LOCAL_ADDR) -speed $(LOCAL_SPEED)

demo: ## Walk through the local cloud: a fleet refreshed to a new image, step by step.
	$(GO) run ./test/localcloud/cmd/phoenix-localcloud demo

bench: ## Benchmarks (figures are counts and ratios; the machine has two cores).
	$(GO) test -run '^$$' -bench . -benchmem -count=1 ./test/...

clean: ## Remove build outputs.
	rm -rf bin
