package ledger

import (
	"math"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// printable reports whether s is a non-empty run of printable characters.
func printable(s string) bool {
	return s != "" && utf8.ValidString(s) && strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) < 0
}

// FuzzGroupKeyRoundTrip checks that every group a user can name has a key,
// and that the key gives back exactly that group: two groups never share
// a key, whatever '#' their names hold.
func FuzzGroupKeyRoundTrip(f *testing.F) {
	for _, seed := range [][2]string{
		{"us-east-1", "web"}, {"eu-west-1", "web#blue"}, {"us-east-1", "#"}, {"ap-south-1", "##a##"},
		{"us-east-1", "GROUP#us-east-1#web"}, {"us-west-2", "prod web (blue) é 🚀"}, {"eu#west", "web"}, {"", "web"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, region, name string) {
		k := rollout.GroupKey{Region: region, Name: name}
		pk, err := groupPK(k)
		valid := printable(region) && !strings.Contains(region, "#") && len(region) <= maxRegionName &&
			printable(name) && utf8.RuneCountInString(name) <= maxGroupName
		if err != nil {
			if valid {
				t.Fatalf("group %q in %q has no key: %v", name, region, err)
			}
			return
		}
		got, err := parseGroupPK(pk)
		if err != nil || got != k {
			t.Fatalf("key %q of %+v reads back as %+v, %v", pk, k, got, err)
		}
	})
}

// FuzzParseGroupKey checks that reading any string as a group key either
// refuses it or reads what groupPK would write.
func FuzzParseGroupKey(f *testing.F) {
	for _, seed := range []string{"GROUP#us-east-1#web", "GROUP#us-east-1#a#b", "GROUP##web", "GROUP#us-east-1#", "ROLLOUT#x", ""} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, pk string) {
		k, err := parseGroupPK(pk)
		if err != nil {
			return
		}
		if again, err := groupPK(k); err == nil && again != pk {
			t.Fatalf("%q reads as %+v, which is written %q", pk, k, again)
		}
	})
}

// FuzzTimeKeysSortInTimeOrder checks that the time in history and index
// keys sorts as text exactly as it does in time, including across
// fractions of a second and time zones.
func FuzzTimeKeysSortInTimeOrder(f *testing.F) {
	f.Add(int64(0), int64(500_000_000), 0)
	f.Add(int64(1_000_000_000), int64(999_999_999), 3600)
	f.Add(int64(math.MinInt64), int64(math.MaxInt64), -7200)
	f.Fuzz(func(t *testing.T, a, b int64, offset int) {
		zone := time.FixedZone("z", offset%86400)
		ta, tb := time.Unix(0, a).In(zone), time.Unix(0, b).In(zone)
		ka, kb := historySK(ta, "r"), historySK(tb, "r")
		if (ka < kb) != ta.Before(tb) || (ka == kb) != ta.Equal(tb) {
			t.Fatalf("%s and %s sort as %q and %q", ta, tb, ka, kb)
		}
	})
}

func TestKeys(t *testing.T) {
	cases := []struct {
		name string
		got  string
		want string
	}{
		{"a group key names the region then the group", must(groupPK(rollout.GroupKey{Region: "eu-west-1", Name: "web#blue"})), "GROUP#eu-west-1#web#blue"},
		{"a signal key has ten digits", signalSK(42), "SIGNAL#0000000042"},
		{"a history key holds the start in UTC with nine fraction digits", historySK(time.Date(2026, 3, 1, 13, 0, 0, 5e8, time.FixedZone("CET", 3600)), "r-1"), "ROLLOUT#2026-03-01T12:00:00.500000000Z#r-1"},
		{"an index key is the start and the id", byTimeSK(t0, "r-1"), "2026-03-01T12:00:00.000000000Z#r-1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Fatalf("got %q, want %q", tc.got, tc.want)
			}
		})
	}
}

func must(s string, err error) string {
	if err != nil {
		panic(err)
	}
	return s
}
