package states

import (
	"math/rand/v2"
	"testing"
)

// FuzzParseDefinition feeds arbitrary documents to the definition parser,
// which reads client input: it must refuse or accept, never panic.
func FuzzParseDefinition(f *testing.F) {
	f.Add(benchDefinition)
	f.Add(parkDef)
	f.Add(`{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"And":[{"Variable":"$.a","IsNull":false}],"Next":"S"}],"Default":"S"},"S":{"Type":"Succeed"}}}`)
	f.Add(`{"StartAt":"M","States":{"M":{"Type":"Map","ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}`)
	f.Fuzz(func(t *testing.T, src string) {
		_, _ = ParseDefinition(src)
	})
}

// FuzzPathsAndIntrinsics evaluates arbitrary paths and intrinsic calls
// against a fixed document: errors are fine, panics are not.
func FuzzPathsAndIntrinsics(f *testing.F) {
	for _, seed := range []string{"$.a[0].b", "$..x", "$.a[?(@.n > 1)]", "$.a[-1:]", "States.Format('{}', $.a[0].b)",
		"States.ArrayPartition(States.ArrayRange(1, 9, 2), 2)", "States.JsonMerge($.o, $.o, false)", "States.Hash($.s, 'SHA-256')"} {
		f.Add(seed)
	}
	doc := mustParseF(`{"a":[{"b":1,"n":2},{"b":"x"}],"o":{"k":[1,2]},"s":"str"}`)
	f.Fuzz(func(t *testing.T, expr string) {
		if p, err := ParsePath(expr); err == nil {
			_, _ = p.Get(doc, doc)
			if rp, err := ParseReferencePath(expr); err == nil {
				_, _ = rp.Set(doc, 1)
			}
		}
		if c, err := ParseIntrinsic(expr); err == nil {
			_, _ = c.Eval(intrinsicEnv{input: doc, ctx: doc, rng: rand.New(rand.NewPCG(1, 1))})
		}
	})
}

func mustParseF(s string) any {
	v, err := parseJSON(s)
	if err != nil {
		panic(err)
	}
	return v
}
