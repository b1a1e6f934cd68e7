package eventbus

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
)

// benchRules builds n rules in the shapes Phoenix and its neighbours use:
// mostly source-scoped, some with content filters, a few matching any source.
func benchRules(n int) *bus {
	rng := rand.New(rand.NewPCG(1, 2))
	bs := &bus{region: "us-east-1", rules: map[string]*rule{}, dirty: true}
	for i := 0; i < n; i++ {
		src := fmt.Sprintf("app.service%d", rng.IntN(50))
		var pattern string
		switch i % 10 {
		case 0:
			pattern = fmt.Sprintf(`{"source":[%q],"detail-type":["Order Placed"],"detail":{"amount":[{"numeric":[">",%d]}]}}`, src, rng.IntN(1000))
		case 1:
			pattern = fmt.Sprintf(`{"source":[%q],"detail":{"state":[{"anything-but":["stopped","terminated"]}],"region":[{"prefix":"us-"}]}}`, src)
		case 2:
			pattern = fmt.Sprintf(`{"detail-type":[{"wildcard":"*Change %d"}]}`, i)
		case 3:
			pattern = fmt.Sprintf(`{"source":[%q],"$or":[{"detail":{"ip":[{"cidr":"10.%d.0.0/16"}]}},{"detail":{"flag":[{"exists":true}]}}]}`, src, rng.IntN(256))
		default:
			pattern = fmt.Sprintf(`{"source":[%q],"detail-type":["State Change %d"],"detail":{"state":["running","pending"]}}`, src, rng.IntN(20))
		}
		p, err := CompilePattern(pattern)
		if err != nil {
			panic(err)
		}
		name := fmt.Sprintf("rule-%04d", i)
		bs.rules[name] = &rule{name: name, pattern: p, state: types.RuleStateEnabled}
	}
	return bs
}

func benchEvents(n int) []*Event {
	rng := rand.New(rand.NewPCG(3, 4))
	out := make([]*Event, n)
	for i := range out {
		raw := fmt.Sprintf(`{"version":"0","id":"%d","detail-type":"State Change %d","source":"app.service%d","account":"123456789012","time":"2026-01-05T09:00:00Z","region":"us-east-1","resources":[],"detail":{"state":"running","amount":%d,"ip":"10.%d.1.2","region":"us-west-2"}}`,
			i, rng.IntN(20), rng.IntN(50), rng.IntN(2000), rng.IntN(256))
		ev, err := ParseEvent([]byte(raw))
		if err != nil {
			panic(err)
		}
		out[i] = ev
	}
	return out
}

func naiveMatches(bs *bus, ev *Event) []*rule {
	var out []*rule
	for _, r := range sortedRuleList(bs) {
		if r.pattern.Match(ev) {
			out = append(out, r)
		}
	}
	return out
}

func sortedRuleList(bs *bus) []*rule {
	out := make([]*rule, 0, len(bs.rules))
	for _, r := range bs.rules {
		out = append(out, r)
	}
	sortRules(out)
	return out
}

func indexedMatches(bs *bus, ev *Event) []*rule {
	var out []*rule
	src := ""
	if v := ev.root.get("source"); v != nil {
		src = v.s
	}
	for _, r := range bs.candidates(src) {
		if r.pattern.Match(ev) {
			out = append(out, r)
		}
	}
	return out
}

func TestIndexedMatchingAgreesWithEvaluatingEveryRule(t *testing.T) {
	t.Parallel()
	bs := benchRules(1000)
	matched := 0
	for _, ev := range benchEvents(500) {
		a, b := naiveMatches(bs, ev), indexedMatches(bs, ev)
		if fmt.Sprint(a) != fmt.Sprint(b) {
			t.Fatalf("event %s: naive matched %d rules, indexed %d", ev.JSON(), len(a), len(b))
		}
		matched += len(a)
	}
	if matched == 0 {
		t.Fatal("no event matched any rule; the comparison proves nothing")
	}
}

// BenchmarkRouteEvent1000RulesIndexed measures routing one event through a
// bus of 1,000 rules using the source index (what the bus does).
func BenchmarkRouteEvent1000RulesIndexed(b *testing.B) {
	bs, events := benchRules(1000), benchEvents(256)
	bs.candidates("")
	evals := 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ev := events[i%len(events)]
		src := ev.root.get("source").s
		for _, r := range bs.candidates(src) {
			evals++
			r.pattern.Match(ev)
		}
	}
	b.ReportMetric(float64(evals)/float64(b.N), "rule-evals/event")
}

// BenchmarkRouteEvent1000RulesNaive is the baseline: every rule evaluated
// against every event.
func BenchmarkRouteEvent1000RulesNaive(b *testing.B) {
	bs, events := benchRules(1000), benchEvents(256)
	rules := sortedRuleList(bs)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ev := events[i%len(events)]
		for _, r := range rules {
			r.pattern.Match(ev)
		}
	}
	b.ReportMetric(float64(len(rules)), "rule-evals/event")
}

// BenchmarkRuleEvaluation measures one pattern evaluated against one parsed
// event: the unit cost, and its allocations per match.
func BenchmarkRuleEvaluation(b *testing.B) {
	p, err := CompilePattern(`{"source":["aws.ec2"],"detail":{"state":[{"anything-but":"initializing"}],"c-count":[{"numeric":[">",0,"<=",5]}],"source-ip":[{"cidr":"10.0.0.0/8"}]}}`)
	if err != nil {
		b.Fatal(err)
	}
	ev, err := ParseEvent([]byte(ec2Event))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if !p.Match(ev) {
			b.Fatal("no match")
		}
	}
}

// BenchmarkParseEvent is the per-event cost paid once before matching.
func BenchmarkParseEvent(b *testing.B) {
	raw := []byte(ec2Event)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := ParseEvent(raw); err != nil {
			b.Fatal(err)
		}
	}
}
