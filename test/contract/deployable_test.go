package contract_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/deploy"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/eventbus"
)

// What `sam build && sam deploy` does with template.yaml that the local
// cloud's deploy does not: the SAM CLI's YAML 1.1 reading, the makefile
// build, deletion and replacement policies, and CloudFormation's parameter
// patterns. make lint runs AWS's own tools on the template; these tests
// hold the rest.

// rawTemplate is template.yaml as YAML nodes, with what the local cloud's
// parser leaves out (Metadata, DeletionPolicy).
type rawTemplate struct{ root *yaml.Node }

func loadRaw(t *testing.T) rawTemplate {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(loadRepo(t).root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	return rawTemplate{root: doc.Content[0]}
}

// at returns the node at the path of mapping keys, nil if absent.
func at(n *yaml.Node, path ...string) *yaml.Node {
	for _, key := range path {
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				next = n.Content[i+1]
			}
		}
		n = next
	}
	return n
}

func value(n *yaml.Node) string {
	if n == nil {
		return ""
	}
	return n.Value
}

func TestTheTemplateHasNoScalarTheSAMCLIReadsDifferently(t *testing.T) {
	root := loadRepo(t).root
	b, err := os.ReadFile(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := deploy.Parse(b); err != nil {
		t.Fatalf("the local cloud's reader refuses template.yaml: %v", err)
	}
	// The defect of issue 14: the IAM conditions' "yes" and "on" unquoted
	// are booleans to the SAM CLI. Put any of them back and the reader
	// names the line.
	for _, word := range []string{"yes", "on", "no", "off"} {
		t.Run("an unquoted "+word+" cannot slip back in", func(t *testing.T) {
			i := strings.Index(string(b), `- "true"`)
			if i < 0 {
				t.Fatal(`template.yaml has no - "true" condition value to put it beside`)
			}
			line := strings.Count(string(b[:i]), "\n") + 2
			bad := string(b[:i]) + `- "true"` + "\n" + strings.Repeat(" ", columnOf(b, i)) + "- " + word + string(b[i+len(`- "true"`):])
			_, err := deploy.Parse([]byte(bad))
			want := "line " + strconv.Itoa(line) + `: unquoted "` + word + `"`
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("err = %v, want it to say %q", err, want)
			}
		})
	}
}

func columnOf(b []byte, i int) int {
	return i - (strings.LastIndex(string(b[:i]), "\n") + 1)
}

func TestTheLedgerOutlivesTheStack(t *testing.T) {
	raw := loadRaw(t)
	table := at(raw.root, "Resources", "LedgerTable")
	for _, policy := range []string{"DeletionPolicy", "UpdateReplacePolicy"} {
		if got := value(at(table, policy)); got != "Retain" {
			t.Errorf("LedgerTable %s = %q, want Retain: deleting or replacing the stack must not delete every rollout record, last-known-good and halt", policy, got)
		}
	}
}

func TestEveryFunctionLogsToAGroupThatExpiresWithTheStack(t *testing.T) {
	r := loadRepo(t)
	raw := loadRaw(t)
	for _, res := range r.functions(t) {
		name := res.Name
		t.Run(name, func(t *testing.T) {
			ref := at(raw.root, "Resources", name, "Properties", "LoggingConfig", "LogGroup")
			if ref == nil || ref.Tag != "!Ref" {
				t.Fatalf("%s has no LoggingConfig.LogGroup !Ref: Lambda would create its log group on the first invoke, never expiring, outliving the stack", name)
			}
			lg := at(raw.root, "Resources", ref.Value)
			if value(at(lg, "Type")) != "AWS::Logs::LogGroup" {
				t.Fatalf("%s logs to %s, which is not a log group of the template", name, ref.Value)
			}
			if ret := at(lg, "Properties", "RetentionInDays"); ret == nil || ret.Tag != "!Ref" || ret.Value != "LogRetentionDays" {
				t.Errorf("%s's RetentionInDays is not the LogRetentionDays parameter", ref.Value)
			}
			for _, policy := range []string{"DeletionPolicy", "UpdateReplacePolicy"} {
				if got := value(at(lg, policy)); got != "Delete" {
					t.Errorf("%s %s = %q, want Delete, said explicitly", ref.Value, policy, got)
				}
			}
		})
	}
}

// samBuild is the command `make build-<LogicalId>` runs for a function
// folder: cross-compiled for Lambda's arm64 Linux, as `make functions`
// builds for the local cloud.
var samBuild = regexp.MustCompile(`^GOOS=linux GOARCH=(\S+) CGO_ENABLED=0 go build -tags lambda\.norpc -trimpath -o /artifacts/bootstrap \./functions/(\S+)$`)

func TestSamBuildRunsTheProjectsOwnBuildForEveryFunction(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Fatal("make is not installed; make test itself needs it")
	}
	r := loadRepo(t)
	raw := loadRaw(t)
	arch := value(at(raw.root, "Globals", "Function", "Architectures").Content[0])
	if rt := value(at(raw.root, "Globals", "Function", "Runtime")); rt != "provided.al2023" || arch != "arm64" {
		t.Fatalf("Globals: Runtime %s on %s, want provided.al2023 on arm64", rt, arch)
	}
	functionsMake, err := exec.Command("make", "-C", r.root, "-n", "-s", "functions").Output()
	if err != nil {
		t.Fatalf("make -n functions: %v", err)
	}
	for _, res := range r.functions(t) {
		name := res.Name
		t.Run(name, func(t *testing.T) {
			meta := at(raw.root, "Resources", name, "Metadata")
			want := map[string]string{"BuildMethod": "makefile", "ProjectRootDirectory": ".", "ContextPath": ".", "WorkingDirectory": "."}
			for k, v := range want {
				if got := value(at(meta, k)); got != v {
					t.Errorf("Metadata.%s = %q, want %q (sam build must run the repository's Makefile from its root)", k, got, v)
				}
			}
			out, err := exec.Command("make", "-C", r.root, "-n", "-s", "build-"+name, "ARTIFACTS_DIR=/artifacts").Output()
			if err != nil {
				t.Fatalf("make -n build-%s: %v", name, err)
			}
			var build string
			for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
				if strings.Contains(l, "go build") {
					build = strings.TrimSpace(l)
				}
			}
			m := samBuild.FindStringSubmatch(build)
			folder := strings.TrimSuffix(strings.TrimPrefix(res.Properties["CodeUri"].(string), "functions/"), "/")
			if m == nil || m[1] != arch || m[2] != folder {
				t.Fatalf("make build-%s runs %q, want GOOS=linux GOARCH=%s with the Lambda flags into $ARTIFACTS_DIR/bootstrap from ./functions/%s", name, build, arch, folder)
			}
			// The same flags as the binaries every test runs.
			local := regexp.MustCompile(`for fn in ([a-z -]+); do[\s\S]*CGO_ENABLED=0 go build -tags lambda\.norpc -trimpath -o bin/functions/\$fn/bootstrap \./functions/\$fn;`).FindStringSubmatch(string(functionsMake))
			if local == nil || !slices.Contains(strings.Fields(local[1]), folder) {
				t.Errorf("make functions does not build %s with the same flags:\n%s", folder, functionsMake)
			}
		})
	}
}

func TestTheRecycleScheduleParameterRefusesWhatEventBridgeRefuses(t *testing.T) {
	raw := loadRaw(t)
	param := at(raw.root, "Parameters", "RecycleSchedule")
	pattern := regexp.MustCompile(value(at(param, "AllowedPattern")))
	if def := value(at(param, "Default")); !pattern.MatchString(def) {
		t.Fatalf("the default %q does not match the pattern", def)
	}
	// Shapes EventBridge accepts and refuses at PutRule (the local cloud's
	// EventBridge parses them as AWS documents); CloudFormation checks the
	// pattern before it creates anything, so a refused shape is a parameter
	// error, not a stack rolled back.
	cases := []string{
		"cron(0 3 * * ? *)", "cron(0 3 ? * MON-FRI *)", "cron(0/15 * * * ? *)", "cron(30 2 1 * ? *)", "cron(0 3 ? * 1 *)",
		"rate(1 day)", "rate(1 hour)", "rate(1 minute)", "rate(5 minutes)", "rate(12 hours)", "rate(7 days)",
		"cron(0 3 * * ?)", "cron(0 3 * * *)", "cron(0 3 * * * *)", "cron(0 3 ? * ? *)",
		"rate(1 days)", "rate(5 minute)", "rate(0 minutes)", "rate(01 minutes)", "rate(-5 minutes)", "rate(5 weeks)",
		"at(2026-01-01T00:00:00)", "0 3 * * *", "",
	}
	for _, expr := range cases {
		_, err := eventbus.ParseSchedule(expr)
		if ok := pattern.MatchString(expr); ok != (err == nil) {
			t.Errorf("%q: the parameter pattern accepts it = %v, EventBridge accepts it = %v (%v)", expr, ok, err == nil, err)
		}
	}
}
