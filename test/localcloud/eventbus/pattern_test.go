package eventbus

import (
	"errors"
	"strings"
	"testing"
)

// ec2Event is the sample event of the event-ruler README and the EventBridge
// user guide's content-filtering page.
const ec2Event = `{
  "version": "0",
  "id": "ddddd4-aaaa-7777-4444-345dd43cc333",
  "detail-type": "EC2 Instance State-change Notification",
  "source": "aws.ec2",
  "account": "012345679012",
  "time": "2017-10-02T16:24:49Z",
  "region": "us-east-1",
  "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000"],
  "detail": {
    "c-count": 5,
    "d-count": 3,
    "x-limit": 301.8,
    "source-ip": "10.0.0.33",
    "instance-id": "i-000000aaaaaa00000",
    "state": "running",
    "FileName": "photo.PNG",
    "ready": true,
    "nested": {"c-count": {"c1": 100}, "deep": {"deeper": {"leaf": "x"}}},
    "tags": ["Custom_Alert", "Insider"],
    "v6": "2001:db8::1"
  }
}`

// autoScalingEvent is the user guide's example for null values and empty
// strings.
const autoScalingEvent = `{
  "version": "0",
  "id": "3e3c153a-8339-4e30-8c35-687ebef853fe",
  "detail-type": "EC2 Instance Launch Successful",
  "source": "aws.autoscaling",
  "account": "123456789012",
  "time": "2015-11-11T21:31:47Z",
  "region": "us-east-1",
  "resources": [],
  "detail": {"eventVersion": "", "responseElements": null}
}`

// employeesEvent is the README's array example.
const employeesEvent = `{
  "source": "hr",
  "employees": [
    {"firstName": "John", "lastName": "Doe"},
    {"firstName": "Anna", "lastName": "Smith"},
    [{"firstName": "Peter", "lastName": "Jones", "middle": "Q"}]
  ]
}`

func TestPatternMatchesAsTheUserGuideDescribes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		pattern string
		event   string
		want    bool
	}{
		// Exact values and arrays.
		{"an exact string value matches the same value", `{"source":["aws.ec2"]}`, ec2Event, true},
		{"an exact string value does not match another value", `{"source":["aws.ec"]}`, ec2Event, false},
		{"string matching is case sensitive", `{"source":["AWS.EC2"]}`, ec2Event, false},
		{"values in a pattern array are alternatives", `{"detail":{"state":["initializing","running"]}}`, ec2Event, true},
		{"no alternative matching means no match", `{"detail":{"state":["initializing","stopped"]}}`, ec2Event, false},
		{"all fields of a pattern must match", `{"source":["aws.ec2"],"detail":{"state":["stopped"]}}`, ec2Event, false},
		{"an event array matches if any element matches", `{"resources":["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000"]}`, ec2Event, true},
		{"an event array of strings matches any listed value", `{"detail":{"tags":["Insider"]}}`, ec2Event, true},
		{"an empty event array matches no value", `{"resources":["x"]}`, autoScalingEvent, false},
		{"a field missing from the event does not match", `{"detail":{"missing":["x"]}}`, ec2Event, false},
		{"fields nest at any depth", `{"detail":{"nested":{"deep":{"deeper":{"leaf":["x"]}}}}}`, ec2Event, true},
		{"nesting must follow the event's structure", `{"detail":{"deep":{"deeper":{"leaf":["x"]}}}}`, ec2Event, false},
		{"the envelope's account can be matched", `{"account":["012345679012"]}`, ec2Event, true},
		{"the envelope's region can be matched", `{"region":["us-east-1"],"version":["0"],"id":["ddddd4-aaaa-7777-4444-345dd43cc333"]}`, ec2Event, true},
		{"the envelope's detail-type can be matched", `{"detail-type":["EC2 Instance State-change Notification"]}`, ec2Event, true},

		// Numbers, null, booleans, empty strings.
		{"numbers match by value (301.8 equals 3.018e2)", `{"detail":{"x-limit":[3.018e2]}}`, ec2Event, true},
		{"numbers match with trailing zeros", `{"detail":{"x-limit":[301.80]}}`, ec2Event, true},
		{"a quoted number does not match a JSON number", `{"detail":{"x-limit":["301.8"]}}`, ec2Event, false},
		{"a number does not match a different number", `{"detail":{"c-count":[6]}}`, ec2Event, false},
		{"null matches null", `{"detail":{"responseElements":[null]}}`, autoScalingEvent, true},
		{"an empty string does not match null", `{"detail":{"responseElements":[""]}}`, autoScalingEvent, false},
		{"an empty string matches an empty string", `{"detail":{"eventVersion":[""]}}`, autoScalingEvent, true},
		{"null does not match an empty string", `{"detail":{"eventVersion":[null]}}`, autoScalingEvent, false},
		{"true matches true", `{"detail":{"ready":[true]}}`, ec2Event, true},
		{"false does not match true", `{"detail":{"ready":[false]}}`, ec2Event, false},
		{"a string true does not match a boolean true", `{"detail":{"ready":["true"]}}`, ec2Event, false},

		// Prefix, suffix, equals-ignore-case, wildcard.
		{"prefix matches the start of a string", `{"time":[{"prefix":"2017-10-02"}]}`, ec2Event, true},
		{"prefix does not match elsewhere in the string", `{"time":[{"prefix":"10-02"}]}`, ec2Event, false},
		{"prefix only applies to strings", `{"detail":{"c-count":[{"prefix":"5"}]}}`, ec2Event, false},
		{"prefix with equals-ignore-case ignores case", `{"detail-type":[{"prefix":{"equals-ignore-case":"ec2 INSTANCE"}}]}`, ec2Event, true},
		{"prefix is case sensitive without equals-ignore-case", `{"detail-type":[{"prefix":"ec2 INSTANCE"}]}`, ec2Event, false},
		{"suffix matches the end of a string", `{"source":[{"suffix":"ec2"}]}`, ec2Event, true},
		{"suffix is case sensitive", `{"detail":{"FileName":[{"suffix":".png"}]}}`, ec2Event, false},
		{"suffix with equals-ignore-case ignores case", `{"detail":{"FileName":[{"suffix":{"equals-ignore-case":".png"}}]}}`, ec2Event, true},
		{"equals-ignore-case matches whatever the case", `{"detail":{"state":[{"equals-ignore-case":"RUNNING"}]}}`, ec2Event, true},
		{"equals-ignore-case still needs the whole value", `{"detail":{"state":[{"equals-ignore-case":"RUN"}]}}`, ec2Event, false},
		{"a wildcard matches any run of characters", `{"detail-type":[{"wildcard":"EC2*State-change*"}]}`, ec2Event, true},
		{"a wildcard can stand for nothing", `{"source":[{"wildcard":"aws.ec2*"}]}`, ec2Event, true},
		{"a wildcard pattern is anchored at both ends", `{"source":[{"wildcard":"ec2*"}]}`, ec2Event, false},
		{"an escaped asterisk is literal", `{"source":[{"wildcard":"aws\\*ec2"}]}`, ec2Event, false},
		{"a wildcard only applies to strings", `{"detail":{"c-count":[{"wildcard":"*"}]}}`, ec2Event, false},

		// Anything-but.
		{"anything-but matches another value", `{"detail":{"state":[{"anything-but":"initializing"}]}}`, ec2Event, true},
		{"anything-but does not match the value", `{"detail":{"state":[{"anything-but":"running"}]}}`, ec2Event, false},
		{"anything-but with a list excludes every listed value", `{"detail":{"state":[{"anything-but":["stopped","running"]}]}}`, ec2Event, false},
		{"anything-but with a list matches an unlisted value", `{"detail":{"state":[{"anything-but":["stopped","overloaded"]}]}}`, ec2Event, true},
		{"anything-but with a number compares numerically", `{"detail":{"x-limit":[{"anything-but":[100,200,3.018e2]}]}}`, ec2Event, false},
		{"anything-but with a number matches another number", `{"detail":{"x-limit":[{"anything-but":123}]}}`, ec2Event, true},
		{"anything-but prefix matches values without the prefix", `{"detail":{"state":[{"anything-but":{"prefix":"init"}}]}}`, ec2Event, true},
		{"anything-but prefix does not match values with the prefix", `{"detail":{"state":[{"anything-but":{"prefix":"run"}}]}}`, ec2Event, false},
		{"anything-but suffix does not match values with the suffix", `{"detail":{"FileName":[{"anything-but":{"suffix":".PNG"}}]}}`, ec2Event, false},
		{"anything-but equals-ignore-case excludes every casing", `{"detail":{"state":[{"anything-but":{"equals-ignore-case":"RUNNING"}}]}}`, ec2Event, false},
		{"anything-but equals-ignore-case with a list matches others", `{"detail":{"state":[{"anything-but":{"equals-ignore-case":["STOPPED","pending"]}}]}}`, ec2Event, true},
		{"anything-but wildcard excludes matching strings", `{"detail":{"state":[{"anything-but":{"wildcard":"*unn*"}}]}}`, ec2Event, false},
		{"anything-but needs the field to be present", `{"detail":{"missing":[{"anything-but":"x"}]}}`, ec2Event, false},

		// Numeric ranges.
		{"numeric range with both bounds includes a closed top", `{"detail":{"c-count":[{"numeric":[">",0,"<=",5]}]}}`, ec2Event, true},
		{"numeric range excludes an open top", `{"detail":{"c-count":[{"numeric":[">",0,"<",5]}]}}`, ec2Event, false},
		{"numeric less-than matches smaller numbers", `{"detail":{"d-count":[{"numeric":["<",10]}]}}`, ec2Event, true},
		{"numeric equals compares values", `{"detail":{"x-limit":[{"numeric":["=",3.018e2]}]}}`, ec2Event, true},
		{"numeric greater-or-equal includes the bound", `{"detail":{"x-limit":[{"numeric":[">=",301.8]}]}}`, ec2Event, true},
		{"numeric greater-than excludes the bound", `{"detail":{"x-limit":[{"numeric":[">",301.8]}]}}`, ec2Event, false},
		{"numeric only matches JSON numbers", `{"detail":{"state":[{"numeric":[">",0]}]}}`, ec2Event, false},
		{"the documented complex example combines filters", `{"time":[{"prefix":"2017-10-02"}],"detail":{"state":[{"anything-but":"initializing"}],"c-count":[{"numeric":[">",0,"<=",5]}],"d-count":[{"numeric":["<",10]}],"x-limit":[{"anything-but":[100,200,300]}],"source-ip":[{"cidr":"10.0.0.0/8"}]}}`, ec2Event, true},

		// Exists.
		{"exists true matches a present leaf", `{"detail":{"c-count":[{"exists":true}]}}`, ec2Event, true},
		{"exists true does not match a missing field", `{"detail":{"missing":[{"exists":true}]}}`, ec2Event, false},
		{"exists false matches a missing field", `{"detail":{"missing":[{"exists":false}]}}`, ec2Event, true},
		{"exists false does not match a present leaf", `{"detail":{"c-count":[{"exists":false}]}}`, ec2Event, false},
		{"exists false matches an object, which is not a leaf", `{"detail":{"nested":{"c-count":[{"exists":false}]}}}`, ec2Event, true},
		{"exists true does not match an object, which is not a leaf", `{"detail":{"nested":{"c-count":[{"exists":true}]}}}`, ec2Event, false},
		{"exists true matches a null value", `{"detail":{"responseElements":[{"exists":true}]}}`, autoScalingEvent, true},
		{"exists false matches an empty array", `{"resources":[{"exists":false}]}`, autoScalingEvent, true},
		{"exists true matches a non-empty array", `{"resources":[{"exists":true}]}`, ec2Event, true},
		{"exists false matches when a parent object is missing", `{"detail":{"absent":{"x":[{"exists":false}]}}}`, ec2Event, true},
		{"exists true fails when a parent object is missing", `{"detail":{"absent":{"x":[{"exists":true}]}}}`, ec2Event, false},

		// IP addresses.
		{"cidr matches an address in the block", `{"detail":{"source-ip":[{"cidr":"10.0.0.0/24"}]}}`, ec2Event, true},
		{"cidr does not match an address outside the block", `{"detail":{"source-ip":[{"cidr":"10.0.1.0/24"}]}}`, ec2Event, false},
		{"cidr works with IPv6", `{"detail":{"v6":[{"cidr":"2001:db8::/32"}]}}`, ec2Event, true},
		{"an IP address value matches other spellings of the address", `{"detail":{"v6":["2001:0db8:0:0:0:0:0:1"]}}`, ec2Event, true},

		// $or.
		{"$or matches when one branch matches", `{"source":["aws.ec2"],"$or":[{"detail":{"c-count":[{"numeric":[">",10]}]}},{"detail":{"state":["running"]}}]}`, ec2Event, true},
		{"$or fails when no branch matches", `{"$or":[{"detail":{"c-count":[{"numeric":[">",10]}]}},{"detail":{"state":["stopped"]}}]}`, ec2Event, false},
		{"$or inside a nested object applies to that object", `{"detail":{"$or":[{"c-count":[1]},{"d-count":[3]}]}}`, ec2Event, true},
		{"$or still requires the fields outside it", `{"source":["aws.s3"],"$or":[{"detail":{"c-count":[5]}},{"detail":{"d-count":[3]}}]}`, ec2Event, false},
		{"$or branches can nest another $or", `{"$or":[{"source":["x"]},{"detail":{"state":["running"]},"$or":[{"detail":{"c-count":[1]}},{"detail":{"d-count":[3]}}]}]}`, ec2Event, true},

		// Arrays of objects.
		{"a field inside an array of objects matches any element", `{"employees":{"firstName":["Anna"]}}`, employeesEvent, true},
		{"fields must match within the same array element", `{"employees":{"firstName":["Anna"],"lastName":["Jones"]}}`, employeesEvent, false},
		{"fields of the same element match together", `{"employees":{"firstName":["Anna"],"lastName":["Smith"]}}`, employeesEvent, true},
		{"nested arrays are flattened", `{"employees":{"firstName":["Peter"],"lastName":["Jones"]}}`, employeesEvent, true},
		{"exists false in an array fails if any element has the field", `{"employees":{"middle":[{"exists":false}]}}`, employeesEvent, false},
		{"exists false next to a value is checked in the matching element", `{"employees":{"firstName":["Anna"],"middle":[{"exists":false}]}}`, employeesEvent, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := mustCompile(t, tc.pattern)
			got, err := p.MatchJSON([]byte(tc.event))
			if err != nil {
				t.Fatalf("parse event: %v", err)
			}
			if got != tc.want {
				t.Errorf("pattern %s matched = %v, want %v", tc.pattern, got, tc.want)
			}
		})
	}
}

func mustCompile(t testing.TB, pattern string) *Pattern {
	t.Helper()
	p, err := CompilePattern(pattern)
	if err != nil {
		t.Fatalf("compile %s: %v", pattern, err)
	}
	return p
}

func TestInvalidPatternsAreRefusedWithTheEnginesReason(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		pattern string
		reason  string
	}{
		{"a pattern must be a JSON object", `["aws.ec2"]`, "Filter is not an object"},
		{"an empty pattern is not an object", ``, "Filter is not an object"},
		{"a leaf value must be an array", `{"source":"aws.ec2"}`, `"source" must be an object or an array`},
		{"a leaf array must not be empty", `{"source":[]}`, "Empty arrays are not allowed"},
		{"the pattern must not be an empty object", `{}`, "Empty objects are not allowed"},
		{"a nested object must not be empty", `{"source":["aws.health"],"detail":{}}`, "Empty objects are not allowed"},
		{"match values cannot be nested arrays", `{"a":[["x"]]}`, "Match value must be String, number, true, false, or null"},
		{"a match expression needs an operator", `{"a":[{}]}`, "Match expression name not found"},
		{"unknown operators are refused", `{"a":[{"contains":"x"}]}`, "Unrecognized match type contains"},
		{"a match expression has a single operator", `{"a":[{"prefix":"x","suffix":"y"}]}`, "Only one key allowed in match expression"},
		{"prefix needs a string", `{"a":[{"prefix":5}]}`, "prefix match pattern must be a string"},
		{"suffix needs a string", `{"a":[{"suffix":["x"]}]}`, "suffix match pattern must be a string"},
		{"prefix accepts only equals-ignore-case inside", `{"a":[{"prefix":{"wildcard":"x"}}]}`, "Unsupported prefix pattern: wildcard"},
		{"equals-ignore-case needs a string", `{"a":[{"equals-ignore-case":1}]}`, "equals-ignore-case match pattern must be a string"},
		{"numeric needs an array", `{"a":[{"numeric":5}]}`, "Value of numeric must be an array."},
		{"numeric operands must be numbers", `{"a":[{"numeric":[">","5"]}]}`, "Value of > must be numeric"},
		{"numeric operators must be known", `{"a":[{"numeric":["!=",5]}]}`, "Unrecognized numeric range operator: !="},
		{"a range's second operator must be an upper bound", `{"a":[{"numeric":[">",5,">",6]}]}`, "Bad numeric range operator: >"},
		{"a range's bottom must be below its top", `{"a":[{"numeric":[">",10,"<",5]}]}`, "Bottom must be less than top"},
		{"an upper bound cannot be followed by more terms", `{"a":[{"numeric":["<",5,">",1]}]}`, "Too many elements in numeric expression"},
		{"a range has at most two bounds", `{"a":[{"numeric":[">",0,"<",5,"<",6]}]}`, "Too many terms in numeric range expression"},
		{"numeric values are limited to 5e9", `{"a":[{"numeric":["=",6e9]}]}`, "Value must be between -5.0E9 and 5.0E9, inclusive"},
		{"anything-but lists cannot mix strings and numbers", `{"a":[{"anything-but":[1,"x"]}]}`, "either all values are number or string"},
		{"anything-but lists cannot hold null", `{"a":[{"anything-but":[null]}]}`, "Inside anything but list, start|null|boolean is not supported."},
		{"anything-but takes a string, number or list", `{"a":[{"anything-but":true}]}`, "Value of anything-but must be an array or single string/number value."},
		{"anything-but prefix cannot be empty", `{"a":[{"anything-but":{"prefix":""}}]}`, "Null prefix/suffix not allowed"},
		{"anything-but supports only some operators", `{"a":[{"anything-but":{"numeric":[">",1]}}]}`, "Unsupported anything-but pattern: numeric"},
		{"exists takes a boolean", `{"a":[{"exists":"yes"}]}`, "exists match pattern must be either true or false."},
		{"wildcards cannot be consecutive", `{"a":[{"wildcard":"a**b"}]}`, "Consecutive wildcard characters at pos 2"},
		{"a backslash may only escape * or \\", `{"a":[{"wildcard":"a\\b"}]}`, "Invalid escape character at pos 2"},
		{"cidr needs a valid block", `{"a":[{"cidr":"10.0.0.0/33"}]}`, "Invalid CIDR"},
		{"cidr needs an address", `{"a":[{"cidr":"ten"}]}`, "Malformed CIDR"},
		{"$or needs an array", `{"$or":{"a":["x"]}}`, "It must be an Array followed with $or."},
		{"$or needs at least two branches", `{"$or":[{"a":["x"]}]}`, "There must have at least 2 Objects in $or relationship."},
		{"$or branches must be objects", `{"$or":[{"a":["x"]},"b"]}`, "Only JSON object is allowed in array of $or relationship."},
		{"operator names cannot be fields inside $or", `{"$or":[{"prefix":["x"]},{"b":["y"]}]}`, "prefix is Ruler reserved fieldName which cannot be used inside $or."},
		{"malformed JSON is refused", `{"source": [`, "Unexpected end-of-input"},
		{"text after the pattern object is refused", `{"source":["a"]},{"b":["c"]}`, "Unexpected content after the end of the filter"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := CompilePattern(tc.pattern)
			var pe *PatternError
			if !errors.As(err, &pe) {
				t.Fatalf("CompilePattern(%s) error = %v, want a *PatternError", tc.pattern, err)
			}
			if !strings.Contains(pe.Reason, tc.reason) {
				t.Errorf("reason = %q, want it to contain %q", pe.Reason, tc.reason)
			}
			if !strings.HasPrefix(pe.Error(), "Event pattern is not valid. Reason: ") {
				t.Errorf("message %q lacks EventBridge's prefix", pe.Error())
			}
		})
	}
}

func TestPatternErrorsLocateTheOffendingToken(t *testing.T) {
	t.Parallel()
	_, err := CompilePattern("{\n  \"source\": \"aws.ec2\"\n}")
	var pe *PatternError
	if !errors.As(err, &pe) {
		t.Fatalf("error = %v, want *PatternError", err)
	}
	if pe.Line != 2 {
		t.Errorf("line = %d, want 2 (the line of the bad value)", pe.Line)
	}
}

func TestPatternSourcesListTheExactSourcesEveryBranchRequires(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		pattern string
		want    []string
	}{
		{"exact sources are listed sorted", `{"source":["b","a","a"]}`, []string{"a", "b"}},
		{"a pattern without a source accepts any", `{"detail-type":["x"]}`, nil},
		{"a prefix on source accepts unlisted sources", `{"source":[{"prefix":"aws."}]}`, nil},
		{"$or branches that all name sources are united", `{"$or":[{"source":["a"]},{"source":["b"]}]}`, []string{"a", "b"}},
		{"a $or branch without a source accepts any", `{"$or":[{"source":["a"]},{"detail":{"x":["b"]}}]}`, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := mustCompile(t, tc.pattern).Sources()
			if strings.Join(got, ",") != strings.Join(tc.want, ",") || (got == nil) != (tc.want == nil) {
				t.Errorf("Sources() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestParseEventRefusesNonObjects(t *testing.T) {
	t.Parallel()
	for _, in := range []string{`[]`, `"x"`, `{`, ``} {
		if _, err := ParseEvent([]byte(in)); err == nil {
			t.Errorf("ParseEvent(%q) succeeded, want an error", in)
		}
	}
}
