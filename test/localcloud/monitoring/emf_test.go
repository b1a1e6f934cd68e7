package monitoring

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// specExample is the valid document the specification gives.
const specExample = `{
  "_aws": {
    "Timestamp": 1574109732004,
    "CloudWatchMetrics": [
      {
        "Namespace": "lambda-function-metrics",
        "Dimensions": [["functionVersion"]],
        "Metrics": [
          {
            "Name": "time",
            "Unit": "Milliseconds",
            "StorageResolution": 60
          }
        ]
      }
    ]
  },
  "functionVersion": "$LATEST",
  "time": 100,
  "requestId": "989ffbf8-9ace-4817-a57c-e4dd734019ee"
}`

// specTime is the specification example's timestamp; the tests read the
// documents at that instant.
var specTime = time.UnixMilli(1574109732004).UTC()

// emfLine is a document at specTime with one directive whose directive
// body and root members are given.
func emfLine(directive, members string) string {
	return fmt.Sprintf(`{"_aws":{"Timestamp":%d,"CloudWatchMetrics":[%s]}%s}`, specTime.UnixMilli(), directive, members)
}

func TestTheSpecificationsExampleYieldsItsMetric(t *testing.T) {
	got, err := ExtractEMF("eu-west-1", strings.ReplaceAll(specExample, "\n", ""), specTime)
	if err != nil {
		t.Fatal(err)
	}
	want := Sample{Region: "eu-west-1", Namespace: "lambda-function-metrics", MetricName: "time",
		Dimensions: map[string]string{"functionVersion": "$LATEST"}, Timestamp: specTime, Value: 100, Unit: "Milliseconds"}
	if len(got) != 1 || fmt.Sprint(got[0]) != fmt.Sprint(want) {
		t.Fatalf("got %+v, want [%+v]", got, want)
	}
}

func TestEveryDimensionSetAndEveryValueIsADatapoint(t *testing.T) {
	line := emfLine(`{"Namespace":"App","Dimensions":[["Service"],["Service","Stage"],[]],"Metrics":[{"Name":"Latency","Unit":"Milliseconds"},{"Name":"Hits"}]}`,
		`,"Service":"web","Stage":"prod","Latency":[3,5],"Hits":1`)
	got, err := ExtractEMF("us-east-1", line, specTime)
	if err != nil {
		t.Fatal(err)
	}
	// Two metrics, three dimension sets, two values of Latency and one of
	// Hits: (2+1) * 3 datapoints.
	if len(got) != 9 {
		t.Fatalf("got %d datapoints, want 9: %+v", len(got), got)
	}
	count := map[string]int{}
	for _, s := range got {
		count[fmt.Sprintf("%s %s %d", s.MetricName, s.Unit, len(s.Dimensions))]++
		if !s.Timestamp.Equal(specTime) || s.Namespace != "App" || s.Region != "us-east-1" {
			t.Errorf("datapoint %+v: want App in us-east-1 at %v", s, specTime)
		}
	}
	want := map[string]int{
		"Latency Milliseconds 1": 2, "Latency Milliseconds 2": 2, "Latency Milliseconds 0": 2,
		"Hits None 1": 1, "Hits None 2": 1, "Hits None 0": 1,
	}
	if fmt.Sprint(count) != fmt.Sprint(want) {
		t.Fatalf("datapoints by metric, unit and number of dimensions = %v, want %v", count, want)
	}
}

func TestATargetIsARootMemberWhoseNameMayHoldADot(t *testing.T) {
	line := emfLine(`{"Namespace":"App","Dimensions":[["A.a"]],"Metrics":[{"Name":"M.m"}]}`, `,"A.a":"x","M.m":2`)
	got, err := ExtractEMF("us-east-1", line, specTime)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Dimensions["A.a"] != "x" || got[0].MetricName != "M.m" || got[0].Value != 2 {
		t.Fatalf("got %+v", got)
	}
}

func TestLinesThatAreNotEMFStayPlainLogLines(t *testing.T) {
	for _, line := range []string{
		"START RequestId: 1 Version: $LATEST",
		`{"level":"INFO","msg":"structured, but no metrics"}`,
		`["_aws"]`,
		`{"_aws": {}} and then some text`,
		`{"_aws": `,
	} {
		if got, err := ExtractEMF("us-east-1", line, specTime); !errors.Is(err, ErrNotEMF) || got != nil {
			t.Errorf("%q: got %v, %v; want ErrNotEMF", line, got, err)
		}
	}
}

func TestDocumentsThatBreakTheSpecificationYieldNoMetric(t *testing.T) {
	okDirective := `{"Namespace":"App","Dimensions":[["Service"]],"Metrics":[{"Name":"Hits","Unit":"Count"}]}`
	okMembers := `,"Service":"web","Hits":1`
	ts := specTime.UnixMilli()
	many := func(n int, f func(i int) string) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = f(i)
		}
		return strings.Join(parts, ",")
	}
	cases := []struct{ name, line string }{
		{"_aws must be an object", `{"_aws":[],"Hits":1}`},
		{"the timestamp is required", fmt.Sprintf(`{"_aws":{"CloudWatchMetrics":[%s]}%s}`, okDirective, okMembers)},
		{"members are case-sensitive", fmt.Sprintf(`{"_aws":{"timestamp":%d,"CloudWatchMetrics":[%s]}%s}`, ts, okDirective, okMembers)},
		{"the timestamp is a number", fmt.Sprintf(`{"_aws":{"Timestamp":"%d","CloudWatchMetrics":[%s]}%s}`, ts, okDirective, okMembers)},
		{"the timestamp is whole milliseconds", fmt.Sprintf(`{"_aws":{"Timestamp":%d.5,"CloudWatchMetrics":[%s]}%s}`, ts, okDirective, okMembers)},
		{"the timestamp is at most two weeks old", fmt.Sprintf(`{"_aws":{"Timestamp":%d,"CloudWatchMetrics":[%s]}%s}`, specTime.Add(-15*24*time.Hour).UnixMilli(), okDirective, okMembers)},
		{"the timestamp is at most two hours ahead", fmt.Sprintf(`{"_aws":{"Timestamp":%d,"CloudWatchMetrics":[%s]}%s}`, specTime.Add(3*time.Hour).UnixMilli(), okDirective, okMembers)},
		{"CloudWatchMetrics is required", fmt.Sprintf(`{"_aws":{"Timestamp":%d}%s}`, ts, okMembers)},
		{"CloudWatchMetrics is an array", fmt.Sprintf(`{"_aws":{"Timestamp":%d,"CloudWatchMetrics":%s}%s}`, ts, okDirective, okMembers)},
		{"a directive needs a namespace", emfLine(`{"Dimensions":[["Service"]],"Metrics":[{"Name":"Hits"}]}`, okMembers)},
		{"a namespace is not empty", emfLine(`{"Namespace":"","Dimensions":[["Service"]],"Metrics":[{"Name":"Hits"}]}`, okMembers)},
		{"a directive needs dimensions", emfLine(`{"Namespace":"App","Metrics":[{"Name":"Hits"}]}`, okMembers)},
		{"dimensions are sets, not names", emfLine(`{"Namespace":"App","Dimensions":["Service"],"Metrics":[{"Name":"Hits"}]}`, okMembers)},
		{"dimensions hold at least one set", emfLine(`{"Namespace":"App","Dimensions":[],"Metrics":[{"Name":"Hits"}]}`, okMembers)},
		{"a set names at most 30 dimensions", emfLine(
			`{"Namespace":"App","Dimensions":[[`+many(31, func(i int) string { return fmt.Sprintf(`"d%d"`, i) })+`]],"Metrics":[{"Name":"Hits"}]}`,
			`,`+many(31, func(i int) string { return fmt.Sprintf(`"d%d":"v"`, i) })+`,"Hits":1`)},
		{"a dimension is a root member", emfLine(okDirective, `,"Hits":1`)},
		{"a dimension is not a nested member", emfLine(`{"Namespace":"App","Dimensions":[["A.a"]],"Metrics":[{"Name":"Hits"}]}`, `,"A":{"a":"x"},"Hits":1`)},
		{"a dimension's value is a string", emfLine(okDirective, `,"Service":7,"Hits":1`)},
		{"a dimension's value is not empty", emfLine(okDirective, `,"Service":"","Hits":1`)},
		{"a dimension's value is at most 1024 characters", emfLine(okDirective, `,"Service":"`+strings.Repeat("v", 1025)+`","Hits":1`)},
		{"a set names a dimension once", emfLine(`{"Namespace":"App","Dimensions":[["Service","Service"]],"Metrics":[{"Name":"Hits"}]}`, okMembers)},
		{"a directive needs metrics", emfLine(`{"Namespace":"App","Dimensions":[["Service"]]}`, okMembers)},
		{"a directive holds at most 100 metrics", emfLine(
			`{"Namespace":"App","Dimensions":[["Service"]],"Metrics":[`+many(101, func(i int) string { return fmt.Sprintf(`{"Name":"m%d"}`, i) })+`]}`,
			`,"Service":"web",`+many(101, func(i int) string { return fmt.Sprintf(`"m%d":1`, i) }))},
		{"a metric needs a name", emfLine(`{"Namespace":"App","Dimensions":[["Service"]],"Metrics":[{"Unit":"Count"}]}`, okMembers)},
		{"a metric is a root member", emfLine(okDirective, `,"Service":"web"`)},
		{"a metric's value is a number", emfLine(okDirective, `,"Service":"web","Hits":"1"`)},
		{"a metric's array holds numbers only", emfLine(okDirective, `,"Service":"web","Hits":[1,"2"]`)},
		{"a metric's array holds at most 100 numbers", emfLine(okDirective, `,"Service":"web","Hits":[`+many(101, func(int) string { return "1" })+`]`)},
		{"a metric's value is within CloudWatch's range", emfLine(okDirective, `,"Service":"web","Hits":1e200`)},
		{"units come from CloudWatch's list", emfLine(`{"Namespace":"App","Dimensions":[["Service"]],"Metrics":[{"Name":"Hits","Unit":"Parsecs"}]}`, okMembers)},
		{"storage resolution is 1 or 60", emfLine(`{"Namespace":"App","Dimensions":[["Service"]],"Metrics":[{"Name":"Hits","StorageResolution":5}]}`, okMembers)},
		{"one bad directive spoils the line", fmt.Sprintf(`{"_aws":{"Timestamp":%d,"CloudWatchMetrics":[%s,{"Namespace":"App"}]}%s}`, ts, okDirective, okMembers)},
	}
	if got, err := ExtractEMF("us-east-1", emfLine(okDirective, okMembers), specTime); err != nil || len(got) != 1 {
		t.Fatalf("the valid base line: got %v, %v", got, err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ExtractEMF("us-east-1", c.line, specTime)
			if err == nil || got != nil {
				t.Fatalf("got %+v, %v; want an error and no datapoint", got, err)
			}
			if errors.Is(err, ErrNotEMF) {
				t.Fatalf("err = %v; the line claims to be EMF and should be refused as invalid", err)
			}
		})
	}
}

// FuzzExtractEMF feeds arbitrary log lines to the extractor, which reads
// what functions print: it must refuse or accept, never panic, and what it
// accepts must be storable.
func FuzzExtractEMF(f *testing.F) {
	f.Add(specExample)
	f.Add(emfLine(`{"Namespace":"App","Dimensions":[["S"],[]],"Metrics":[{"Name":"M","Unit":"Count"}]}`, `,"S":"x","M":[1,2.5,-3]`))
	f.Add(`{"_aws":{"Timestamp":1574109732004,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[[]],"Metrics":[{"Name":"_aws"}]}]}}`)
	f.Add("plain text")
	f.Fuzz(func(t *testing.T, line string) {
		got, err := ExtractEMF("us-east-1", line, specTime)
		if err != nil {
			if got != nil {
				t.Fatalf("an error with datapoints: %v", got)
			}
			return
		}
		for _, s := range got {
			if s.Namespace == "" || s.MetricName == "" || s.Unit == "" || len(s.Dimensions) > emfMaxDimensionKeys || checkValue(s.Value, "v") != nil {
				t.Fatalf("accepted an unstorable datapoint %+v from %q", s, line)
			}
		}
	})
}
