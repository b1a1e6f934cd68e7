# Phoenix build, test and local-cloud entry points.
# `make test` and `make demo` are self-contained on a fresh machine: they
# install the pinned Go tools (tools/go.mod) and npm packages they need.
#
# go.work joins two modules: the product (.) and the local cloud
# (test/localcloud, its own module so that its dependencies are its own).
# A module pattern like ./... stops at a nested module, so PKGS names both.

SHELL        := bash
.SHELLFLAGS  := -euo pipefail -c
GO           ?= go
# The pinned tools are built from tools/go.mod outside the workspace
# (`go tool -modfile` refuses workspace mode) and run from bin/tools, so
# that the go commands they start see the workspace.
TOOLS_BIN    := bin/tools
TOOLS        := github.com/golangci/golangci-lint/v2/cmd/golangci-lint gotest.tools/gotestsum
NPM_DIR      := test/node
NODE_MODULES := $(NPM_DIR)/node_modules/.installed
LOCAL_ADDR   ?= 127.0.0.1:4566
LOCAL_SPEED  ?= 60
PKGS         := ./... ./test/localcloud/...

FUNCTIONS    := $(notdir $(patsubst %/main.go,%,$(wildcard functions/*/main.go)))
FN_BIN       := bin/functions

.PHONY: help build functions invoke test unit lint vet fmt-check local demo bench soak clean npm tools

help: ## List the targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

build: ## Build every package and the command binaries into bin/.
	$(GO) build $(PKGS)
	$(GO) build -o bin/phoenix ./cmd/phoenix
	$(GO) build -o bin/phoenix-localcloud ./test/localcloud/cmd/phoenix-localcloud

# One build for every Lambda bootstrap, the local cloud's and the one that
# ships: no cgo (provided.al2023 has no libc guarantee), no RPC shim, no
# local paths.
LAMBDA_BUILD := CGO_ENABLED=0 $(GO) build -tags lambda.norpc -trimpath

functions: ## Build every functions/<name> as bin/functions/<name>/bootstrap for this machine (the local cloud runs them).
	@for fn in $(FUNCTIONS); do \
		echo "build $$fn"; \
		$(LAMBDA_BUILD) -o $(FN_BIN)/$$fn/bootstrap ./functions/$$fn; \
	done

# sam build runs `make build-<LogicalId>` for each function of template.yaml
# (BuildMethod: makefile, ProjectRootDirectory and ContextPath: the
# repository), with ARTIFACTS_DIR set: the same build as `make functions`,
# for the template's arm64 provided.al2023. The logical id names the folder:
# PrepareFunction is functions/prepare, StartRefreshFunction is
# functions/start-refresh.
LAMBDA_ARCH ?= arm64
build-%Function:
	@test -n "$(ARTIFACTS_DIR)" || { echo "ARTIFACTS_DIR is not set: sam build sets it" >&2; exit 2; }
	GOOS=linux GOARCH=$(LAMBDA_ARCH) $(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/$(shell echo '$*' | sed -E 's/([a-z0-9])([A-Z])/\1-\2/g' | tr 'A-Z' 'a-z')

$(TOOLS_BIN)/.built: tools/go.mod tools/go.sum
	GOWORK=off $(GO) build -modfile=tools/go.mod -o $(TOOLS_BIN)/ $(TOOLS)
	touch $@

tools: $(TOOLS_BIN)/.built ## Build the pinned Go tools (tools/go.mod) into bin/tools.

$(NODE_MODULES): $(NPM_DIR)/package.json $(NPM_DIR)/package-lock.json
	npm ci --prefix $(NPM_DIR) --no-audit --no-fund --loglevel=error
	touch $@

npm: $(NODE_MODULES) ## Install the pinned npm packages (Node 22, dynalite, asl-validator, aws-local-stepfunctions).

vet: ## go vet.
	$(GO) vet $(PKGS)

fmt-check: ## Fail on files gofmt would change.
	@out=$$(gofmt -l $$(git ls-files '*.go') 2>/dev/null); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

lint: fmt-check vet $(NODE_MODULES) $(TOOLS_BIN)/.built ## gofmt, go vet, golangci-lint, asl-validator on the state machines, cfn-lint and the SAM transform (bin/template.transformed.json) on the template.
	$(TOOLS_BIN)/golangci-lint run $(PKGS)
	@# The definition has numeric placeholders, so it is JSON only once
	@# rendered with the template's defaults.
	@mkdir -p bin
	$(GO) run ./test/contract/cmd/render-asl > bin/rollout.asl.json
	$(GO) run ./test/contract/cmd/render-asl CampaignStateMachine infra/campaign.asl.json > bin/campaign.asl.json
	$(NPM_DIR)/node_modules/.bin/node $(NPM_DIR)/node_modules/.bin/asl-validator --json-path bin/rollout.asl.json --json-path bin/campaign.asl.json
	@# No rain fmt: it writes YAML 1.2 and unquotes "yes" and "on", which the
	@# SAM CLI's YAML 1.1 reader then takes for booleans (issue 14).
	@# AWS's own tools, as sam validate --lint and sam package run them
	@# (settings and allow-list in .cfnlintrc.yaml); fails if they are missing.
	python3 test/lint/aws_lint.py template.yaml bin/template.transformed.json

unit: $(NODE_MODULES) $(TOOLS_BIN)/.built ## Run the Go tests (race detector on).
	PHOENIX_NODE_DIR=$(CURDIR)/$(NPM_DIR) PHOENIX_REQUIRE_CONFORMANCE=1 \
		$(TOOLS_BIN)/gotestsum --format pkgname-and-test-fails -- -race -count=1 -timeout=30m $(PKGS)

test: lint unit ## Everything CI runs: lint, unit, conformance and end-to-end tests.
	bash test/smoke/awscli.sh
	python3 test/smoke/boto3_smoke.py

local: functions $(NODE_MODULES) ## Run the local cloud on $(LOCAL_ADDR) in real time with template.yaml deployed (Ctrl-C stops it).
	PHOENIX_NODE_DIR=$(CURDIR)/$(NPM_DIR) $(GO) run ./test/localcloud/cmd/phoenix-localcloud \
		-addr $(LOCAL_ADDR) -speed $(LOCAL_SPEED) -functions $(FN_BIN) $(LOCAL_FLAGS)

invoke: functions $(NODE_MODULES) ## Run one function on the local cloud with the template deployed: make invoke FN=name EVENT=events/file.json
	PHOENIX_NODE_DIR=$(CURDIR)/$(NPM_DIR) $(GO) run ./test/localcloud/cmd/phoenix-localcloud invoke -fn "$(FN)" -event "$(EVENT)" -functions $(FN_BIN)

demo: functions $(NODE_MODULES) ## Phoenix's five stories on the local cloud: an image rolled in waves to finalized, a bad image reverted by its alarm, the nightly recycle, the image lifecycle's plan and apply, a bad image switched back off a blue/green pair by its alarm in one call; prints the timeline, writes an HTML report (DEMO_REPORT, default bin/demo/report.html; DEMO_FLAGS=-fast for the short run).
	@# Built as the functions are (no cgo, -trimpath), so that on a cold
	@# build cache the AWS SDK is compiled once for both.
	PHOENIX_NODE_DIR=$(CURDIR)/$(NPM_DIR) CGO_ENABLED=0 $(GO) run -trimpath ./test/demo -functions $(FN_BIN) -report $(or $(DEMO_REPORT),bin/demo/report.html) $(DEMO_FLAGS)

bench: $(NODE_MODULES) ## Benchmarks (figures are counts and ratios; the machine has two cores), then a whole rollout of a 100-instance group and the reactions to an alarm during and after one, a blue/green pair against a rolling group after the same guard alarm, and the image lifecycle's full year (about 30 minutes in all), on the local cloud.
	$(GO) test -run '^$$' -bench . -benchmem -count=1 $$($(GO) list ./test/... ./test/localcloud/... | grep -v /test/e2e)
	$(GO) test -run '^$$' -bench DefaultSpecSensitivity -benchtime=1x -count=1 ./shared/analysis
	PHOENIX_NODE_DIR=$(CURDIR)/$(NPM_DIR) PHOENIX_REQUIRE_CONFORMANCE=1 \
		$(GO) test -run '^$$' -bench 'Rollout|Alarm' -benchtime=1x -count=1 ./test/e2e
	PHOENIX_NODE_DIR=$(CURDIR)/$(NPM_DIR) PHOENIX_REQUIRE_CONFORMANCE=1 \
		$(GO) test -run '^TestAYearOfTheImageLifecycleOnTheLocalCloud$$' -lifecycle-year=full -count=1 -timeout=0 -v ./test/e2e

SEEDS         ?= 500
START         ?= 1
SOAK_PARALLEL ?= 4

soak: $(NODE_MODULES) ## Fault campaigns (docs/soak.md): seeds START..START+SEEDS-1 (500: 20-30 minutes on two cores), race detector off; log in bin/soak.log.
	@mkdir -p bin
	@status=0; PHOENIX_NODE_DIR=$(CURDIR)/$(NPM_DIR) PHOENIX_REQUIRE_CONFORMANCE=1 \
		$(GO) test ./test/e2e -run '^TestFaultCampaign$$' -count=1 -timeout=0 -v -parallel=$(SOAK_PARALLEL) \
		-seeds=$(SEEDS) -seed-start=$(START) > bin/soak.log 2>&1 || status=$$?; \
	grep -E '^soak:' bin/soak.log || tail -n 40 bin/soak.log; \
	echo "full log: bin/soak.log"; exit $$status

clean: ## Remove build outputs.
	rm -rf bin
