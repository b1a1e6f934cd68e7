package deploy

import (
	"fmt"
	"regexp"

	"gopkg.in/yaml.v3"
)

// The SAM CLI reads and rewrites a template with PyYAML, a YAML 1.1 reader,
// while this package reads YAML 1.2 (yaml.v3). An unquoted yes, no, on or
// off is a boolean to the first and a string to the second, so a template
// could pass every local test and mean something else on AWS: the IAM
// condition value "yes" becomes true and no tag ever matches it. Rather
// than guess which reading the author meant, the reader refuses such a
// scalar and names its line. Sexagesimal numbers (1:30) and numbers with a
// leading zero (0755, octal in YAML 1.1) differ the same way.
var (
	// yaml11Bools maps each YAML 1.1 boolean spelling that YAML 1.2 reads
	// as a string to the boolean it means.
	yaml11Bools = map[string]bool{
		"y": true, "Y": true, "yes": true, "Yes": true, "YES": true,
		"n": false, "N": false, "no": false, "No": false, "NO": false,
		"on": true, "On": true, "ON": true, "off": false, "Off": false, "OFF": false,
	}
	yaml11Sexagesimal = regexp.MustCompile(`^[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?$`)
	yaml11Octal       = regexp.MustCompile(`^[-+]?0[0-7_]+$`)
)

// yaml11Ambiguous returns an error naming the line of a plain (unquoted)
// scalar that YAML 1.1 and YAML 1.2 read differently.
func yaml11Ambiguous(n *yaml.Node) error {
	// The argument of a short-form intrinsic (!Ref yes) is a string to
	// both readers.
	if n.Kind != yaml.ScalarNode || n.Style != 0 || isCustomTag(n.Tag) {
		return nil
	}
	var as string
	b, isBool := yaml11Bools[n.Value]
	switch v := n.Value; {
	case isBool:
		as = fmt.Sprintf("the boolean %t", b)
	case yaml11Sexagesimal.MatchString(v):
		as = "a base-60 number"
	case yaml11Octal.MatchString(v):
		as = "an octal number"
	default:
		return nil
	}
	return fmt.Errorf("line %d: unquoted %q is %s to YAML 1.1 readers such as the SAM CLI, but a string or another number to YAML 1.2: quote it (%q) or write what you mean", n.Line, n.Value, as, n.Value)
}
