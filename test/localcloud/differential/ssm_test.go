package differential

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

func ssmClient(c aws.Config) *ssm.Client { return ssm.NewFromConfig(c) }

// ssmSame runs call on both sides and fails the test unless both observe
// the same outcome, which must be want (zero for a success).
func ssmSame[R any](t *testing.T, p *pair, what string, want outcome, call func(*ssm.Client) (R, error)) (local, moto R) {
	t.Helper()
	l, m, lo, mo := both(t, p, ssmClient, call)
	if lo != mo || lo != want {
		t.Fatalf("%s: local cloud %+v, moto %+v; want %+v on both", what, lo, mo, want)
	}
	return l, m
}

// ssmPut puts a parameter on both sides and checks both answer the same
// version.
func ssmPut(t *testing.T, p *pair, in ssm.PutParameterInput) int64 {
	t.Helper()
	l, m := ssmSame(t, p, "PutParameter "+aws.ToString(in.Name), outcome{}, func(c *ssm.Client) (*ssm.PutParameterOutput, error) {
		cp := in
		return c.PutParameter(context.Background(), &cp)
	})
	if l.Version != m.Version || l.Tier != m.Tier {
		t.Fatalf("PutParameter %s: local cloud version %d tier %q, moto version %d tier %q", aws.ToString(in.Name), l.Version, l.Tier, m.Version, m.Tier)
	}
	return l.Version
}

// ssmParam is what a client can compare of a types.Parameter: everything
// but LastModifiedDate, whose presence is checked instead.
type ssmParam struct {
	Name, Type, Value, DataType, ARN, Selector string
	Version                                    int64
}

func ssmView(t *testing.T, side string, p types.Parameter) ssmParam {
	t.Helper()
	if p.LastModifiedDate == nil || p.LastModifiedDate.IsZero() {
		t.Errorf("%s: parameter %s has no LastModifiedDate", side, aws.ToString(p.Name))
	}
	return ssmParam{Name: aws.ToString(p.Name), Type: string(p.Type), Value: aws.ToString(p.Value),
		DataType: aws.ToString(p.DataType), ARN: aws.ToString(p.ARN), Selector: aws.ToString(p.Selector), Version: p.Version}
}

func ssmViews(t *testing.T, side string, ps []types.Parameter) []ssmParam {
	t.Helper()
	out := []ssmParam{}
	for _, p := range ps {
		out = append(out, ssmView(t, side, p))
	}
	return out
}

// ssmGet reads name (with an optional selector) on both sides, expecting
// want, and returns the local cloud's view after checking moto's is equal.
func ssmGet(t *testing.T, p *pair, name string, want outcome) ssmParam {
	t.Helper()
	l, m := ssmSame(t, p, "GetParameter "+name, want, func(c *ssm.Client) (*ssm.GetParameterOutput, error) {
		return c.GetParameter(context.Background(), &ssm.GetParameterInput{Name: aws.String(name)})
	})
	if want.Code != "" {
		return ssmParam{}
	}
	lv, mv := ssmView(t, "local cloud", *l.Parameter), ssmView(t, "moto", *m.Parameter)
	ssmSelector(t, name, &lv, &mv)
	if lv != mv {
		t.Errorf("GetParameter %s:\nlocal cloud %+v\nmoto        %+v", name, lv, mv)
	}
	return lv
}

// ssmSelector checks Selector, where the two differ: the local cloud
// echoes a name:version or name:label selector (":2", ":prod") as AWS
// documents and answers; moto leaves Selector out
// (docs/local-cloud-vs-moto.md). It then copies the local cloud's
// selector to moto's view so that the other fields compare.
func ssmSelector(t *testing.T, asked string, local, moto *ssmParam) {
	t.Helper()
	want := ""
	if i := strings.LastIndex(asked, ":"); i >= 0 {
		want = asked[i:]
	}
	if local.Selector != want {
		t.Errorf("local cloud: %s answered Selector %q, want %q", asked, local.Selector, want)
	}
	if moto.Selector != "" {
		t.Errorf("moto: %s answered Selector %q; moto 5.2.1 was seen to leave it out", asked, moto.Selector)
	}
	moto.Selector = local.Selector
}

// ssmDiverge runs call on both sides where the two are known to differ and
// checks each side's outcome against the documented one.
func ssmDiverge[R any](t *testing.T, p *pair, what string, wantLocal, wantMoto outcome, call func(*ssm.Client) (R, error)) (local, moto R) {
	t.Helper()
	l, m, lo, mo := both(t, p, ssmClient, call)
	if lo != wantLocal {
		t.Errorf("%s: local cloud %+v, want %+v", what, lo, wantLocal)
	}
	if mo != wantMoto {
		t.Errorf("%s: moto %+v; moto 5.2.1 was seen to answer %+v", what, mo, wantMoto)
	}
	return l, m
}

var (
	ssmBadRequest      = func(code string) outcome { return outcome{Code: code, Status: 400} }
	ssmNotFound        = ssmBadRequest("ParameterNotFound")
	ssmVersionNotFound = ssmBadRequest("ParameterVersionNotFound")
)

// PutParameter creates version 1, refuses an existing name without
// Overwrite and adds versions with it; GetParameter reads the latest
// version, or the one a name:version selector names, echoing the selector.
func TestSSMParameterVersions(t *testing.T) {
	p := newPair(t)
	ctx := context.Background()
	if v := ssmPut(t, p, ssm.PutParameterInput{Name: aws.String("/app/ami"), Value: aws.String("one"), Type: types.ParameterTypeString}); v != 1 {
		t.Fatalf("first version %d, want 1", v)
	}
	ssmSame(t, p, "PutParameter without Overwrite", ssmBadRequest("ParameterAlreadyExists"), func(c *ssm.Client) (*ssm.PutParameterOutput, error) {
		return c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/app/ami"), Value: aws.String("two"), Type: types.ParameterTypeString})
	})
	// Overwrite without a Type keeps the parameter's type.
	if v := ssmPut(t, p, ssm.PutParameterInput{Name: aws.String("/app/ami"), Value: aws.String("two"), Overwrite: aws.Bool(true)}); v != 2 {
		t.Fatalf("second version %d, want 2", v)
	}
	if v := ssmPut(t, p, ssm.PutParameterInput{Name: aws.String("/app/ami"), Value: aws.String("three"), Type: types.ParameterTypeString, Overwrite: aws.Bool(true)}); v != 3 {
		t.Fatalf("third version %d, want 3", v)
	}
	arn := "arn:aws:ssm:us-east-1:123456789012:parameter/app/ami"
	want := ssmParam{Name: "/app/ami", Type: "String", Value: "three", DataType: "text", ARN: arn, Version: 3}
	if got := ssmGet(t, p, "/app/ami", outcome{}); got != want {
		t.Errorf("latest: got %+v, want %+v", got, want)
	}
	want = ssmParam{Name: "/app/ami", Type: "String", Value: "one", DataType: "text", ARN: arn, Selector: ":1", Version: 1}
	if got := ssmGet(t, p, "/app/ami:1", outcome{}); got != want {
		t.Errorf("name:1: got %+v, want %+v", got, want)
	}
	ssmGet(t, p, "/app/ami:9", ssmVersionNotFound)
	ssmGet(t, p, "/app/missing", ssmNotFound)
	ssmGet(t, p, "/app/missing:1", ssmNotFound)

	// A parameter without a hierarchy, and a StringList.
	ssmPut(t, p, ssm.PutParameterInput{Name: aws.String("flat"), Value: aws.String("a,b"), Type: types.ParameterTypeStringList})
	want = ssmParam{Name: "flat", Type: "StringList", Value: "a,b", DataType: "text", ARN: "arn:aws:ssm:us-east-1:123456789012:parameter/flat", Version: 1}
	if got := ssmGet(t, p, "flat", outcome{}); got != want {
		t.Errorf("flat: got %+v, want %+v", got, want)
	}

	// Creating without a Type, and names AWS reserves, are refused.
	ssmSame(t, p, "PutParameter without Type", ssmBadRequest("ValidationException"), func(c *ssm.Client) (*ssm.PutParameterOutput, error) {
		return c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/app/untyped"), Value: aws.String("x")})
	})
	ssmSame(t, p, "PutParameter ssm-prefixed", ssmBadRequest("ValidationException"), func(c *ssm.Client) (*ssm.PutParameterOutput, error) {
		return c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("ssm-thing"), Value: aws.String("x"), Type: types.ParameterTypeString})
	})
}

// LabelParameterVersion attaches labels to a version (the latest when none
// is named), moves a label another version carries, returns labels that
// break the rules in InvalidLabels, and refuses an eleventh label on a
// version; GetParameter resolves name:label.
func TestSSMParameterLabels(t *testing.T) {
	p := newPair(t)
	ctx := context.Background()
	for i, v := range []string{"one", "two", "three"} {
		in := ssm.PutParameterInput{Name: aws.String("/app/ami"), Value: aws.String(v), Type: types.ParameterTypeString}
		if i > 0 {
			in.Overwrite = aws.Bool(true)
		}
		ssmPut(t, p, in)
	}
	label := func(version *int64, labels ...string) (local, moto *ssm.LabelParameterVersionOutput) {
		t.Helper()
		return ssmSame(t, p, fmt.Sprintf("LabelParameterVersion %v", labels), outcome{}, func(c *ssm.Client) (*ssm.LabelParameterVersionOutput, error) {
			return c.LabelParameterVersion(ctx, &ssm.LabelParameterVersionInput{Name: aws.String("/app/ami"), ParameterVersion: version, Labels: labels})
		})
	}
	l, m := label(aws.Int64(1), "prod")
	if l.ParameterVersion != 1 || m.ParameterVersion != 1 || len(l.InvalidLabels) != 0 || len(m.InvalidLabels) != 0 {
		t.Errorf("label v1: local cloud %+v, moto %+v", l, m)
	}
	got := ssmGet(t, p, "/app/ami:prod", outcome{})
	if got.Value != "one" || got.Version != 1 || got.Selector != ":prod" {
		t.Errorf("name:prod before the move: %+v", got)
	}
	// Without ParameterVersion the latest version is labelled; prod moves.
	l, m = label(nil, "prod", "canary")
	if l.ParameterVersion != 3 || m.ParameterVersion != 3 {
		t.Errorf("label latest: local cloud version %d, moto %d; want 3", l.ParameterVersion, m.ParameterVersion)
	}
	if got := ssmGet(t, p, "/app/ami:prod", outcome{}); got.Value != "three" || got.Version != 3 {
		t.Errorf("name:prod after the move: %+v", got)
	}
	// A label no version carries: AWS documents no error for it; the local
	// cloud answers ParameterVersionNotFound, as for a missing version of
	// an existing parameter, moto ParameterNotFound.
	ssmDiverge(t, p, "GetParameter /app/ami:nolabel", ssmVersionNotFound, ssmNotFound, func(c *ssm.Client) (*ssm.GetParameterOutput, error) {
		return c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/app/ami:nolabel")})
	})

	// Labels breaking the rules (a leading digit, an aws or ssm prefix)
	// come back in InvalidLabels.
	l, m = label(aws.Int64(2), "1st", "awsx", "ssm-x", "good")
	sort.Strings(l.InvalidLabels)
	sort.Strings(m.InvalidLabels)
	if !reflect.DeepEqual(l.InvalidLabels, m.InvalidLabels) || !reflect.DeepEqual(l.InvalidLabels, []string{"1st", "awsx", "ssm-x"}) {
		t.Errorf("InvalidLabels: local cloud %v, moto %v; want [1st awsx ssm-x]", l.InvalidLabels, m.InvalidLabels)
	}
	if got := ssmGet(t, p, "/app/ami:good", outcome{}); got.Version != 2 {
		t.Errorf("name:good: %+v", got)
	}

	// Unknown version and unknown parameter.
	ssmSame(t, p, "LabelParameterVersion of version 9", ssmVersionNotFound, func(c *ssm.Client) (*ssm.LabelParameterVersionOutput, error) {
		return c.LabelParameterVersion(ctx, &ssm.LabelParameterVersionInput{Name: aws.String("/app/ami"), ParameterVersion: aws.Int64(9), Labels: []string{"x"}})
	})
	ssmSame(t, p, "LabelParameterVersion of a missing parameter", ssmNotFound, func(c *ssm.Client) (*ssm.LabelParameterVersionOutput, error) {
		return c.LabelParameterVersion(ctx, &ssm.LabelParameterVersionInput{Name: aws.String("/app/none"), Labels: []string{"x"}})
	})

	// A version carries at most ten labels: version 1 has none left after
	// the move, takes ten, and refuses an eleventh.
	ten := []string{"l0", "l1", "l2", "l3", "l4", "l5", "l6", "l7", "l8", "l9"}
	label(aws.Int64(1), ten...)
	ssmSame(t, p, "eleventh label", ssmBadRequest("ParameterVersionLabelLimitExceeded"), func(c *ssm.Client) (*ssm.LabelParameterVersionOutput, error) {
		return c.LabelParameterVersion(ctx, &ssm.LabelParameterVersionInput{Name: aws.String("/app/ami"), ParameterVersion: aws.Int64(1), Labels: []string{"l10"}})
	})
	// Relabelling with a label the version already has is no change.
	label(aws.Int64(1), "l0")

	// History shows each version's labels.
	lh, mh := ssmSame(t, p, "GetParameterHistory", outcome{}, func(c *ssm.Client) (*ssm.GetParameterHistoryOutput, error) {
		return c.GetParameterHistory(ctx, &ssm.GetParameterHistoryInput{Name: aws.String("/app/ami")})
	})
	wantLabels := map[int64][]string{1: ten, 2: {"good"}, 3: {"canary", "prod"}}
	for side, h := range map[string]*ssm.GetParameterHistoryOutput{"local cloud": lh, "moto": mh} {
		if len(h.Parameters) != 3 {
			t.Fatalf("%s: history of %d versions, want 3", side, len(h.Parameters))
		}
		for _, v := range h.Parameters {
			got := append([]string(nil), v.Labels...)
			sort.Strings(got)
			if !reflect.DeepEqual(got, wantLabels[v.Version]) {
				t.Errorf("%s: version %d labels %v, want %v", side, v.Version, got, wantLabels[v.Version])
			}
		}
	}
}

// GetParameters returns the names that resolve and lists the others, by
// the name as asked, in InvalidParameters.
func TestSSMGetParametersInvalidNames(t *testing.T) {
	p := newPair(t)
	ssmPut(t, p, ssm.PutParameterInput{Name: aws.String("/app/a"), Value: aws.String("a1"), Type: types.ParameterTypeString})
	ssmPut(t, p, ssm.PutParameterInput{Name: aws.String("/app/a"), Value: aws.String("a2"), Type: types.ParameterTypeString, Overwrite: aws.Bool(true)})
	ssmPut(t, p, ssm.PutParameterInput{Name: aws.String("/app/b"), Value: aws.String("b1"), Type: types.ParameterTypeString})
	names := []string{"/app/a", "/app/missing", "/app/b", "/app/a:1", "/app/a:7", "/app/b:nolabel"}
	l, m := ssmSame(t, p, "GetParameters", outcome{}, func(c *ssm.Client) (*ssm.GetParametersOutput, error) {
		return c.GetParameters(context.Background(), &ssm.GetParametersInput{Names: names})
	})
	lv, mv := ssmSorted(ssmViews(t, "local cloud", l.Parameters)), ssmSorted(ssmViews(t, "moto", m.Parameters))
	if len(lv) == len(mv) {
		for i := range lv {
			asked := lv[i].Name
			if lv[i].Name == "/app/a" && lv[i].Version == 1 {
				asked += ":1"
			}
			ssmSelector(t, asked, &lv[i], &mv[i])
		}
	}
	if !reflect.DeepEqual(lv, mv) {
		t.Errorf("Parameters:\nlocal cloud %+v\nmoto        %+v", lv, mv)
	}
	if len(lv) != 3 {
		t.Errorf("local cloud returned %d parameters, want 3 (/app/a, /app/b, /app/a:1)", len(lv))
	}
	li, mi := append([]string(nil), l.InvalidParameters...), append([]string(nil), m.InvalidParameters...)
	sort.Strings(li)
	sort.Strings(mi)
	if !reflect.DeepEqual(li, mi) || !reflect.DeepEqual(li, []string{"/app/a:7", "/app/b:nolabel", "/app/missing"}) {
		t.Errorf("InvalidParameters: local cloud %v, moto %v", li, mi)
	}
	// More than ten names is a validation error.
	ssmSame(t, p, "GetParameters with 11 names", ssmBadRequest("ValidationException"), func(c *ssm.Client) (*ssm.GetParametersOutput, error) {
		return c.GetParameters(context.Background(), &ssm.GetParametersInput{Names: []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"}})
	})
}

func ssmSorted(ps []ssmParam) []ssmParam {
	sort.Slice(ps, func(i, j int) bool {
		if ps[i].Name != ps[j].Name {
			return ps[i].Name < ps[j].Name
		}
		return ps[i].Version < ps[j].Version
	})
	return ps
}

// ssmByPath pages through GetParametersByPath with MaxResults size on one
// side and returns the names read and each page's length.
func ssmByPath(t *testing.T, c *ssm.Client, side, path string, recursive bool, size int32) (names []string, pages []int) {
	t.Helper()
	var token *string
	for range 20 {
		out, err := c.GetParametersByPath(context.Background(), &ssm.GetParametersByPathInput{
			Path: aws.String(path), Recursive: aws.Bool(recursive), MaxResults: aws.Int32(size), NextToken: token})
		if err != nil {
			t.Fatalf("%s: GetParametersByPath %s: %v", side, path, err)
		}
		for _, p := range out.Parameters {
			names = append(names, aws.ToString(p.Name))
		}
		pages = append(pages, len(out.Parameters))
		if token = out.NextToken; token == nil {
			return names, pages
		}
	}
	t.Fatalf("%s: GetParametersByPath %s did not end in 20 pages", side, path)
	return nil, nil
}

// GetParametersByPath returns a path's direct children, or every
// descendant with Recursive, at most MaxResults a page. AWS documents no
// order, so the names are compared as sets; every page but the last must
// be full on both sides.
func TestSSMGetParametersByPath(t *testing.T) {
	p := newPair(t)
	for _, n := range []string{"/app/a", "/app/b", "/app/c", "/app/sub/d", "/app/sub/deep/e", "/apple/x", "/other/y"} {
		ssmPut(t, p, ssm.PutParameterInput{Name: aws.String(n), Value: aws.String("v" + n), Type: types.ParameterTypeString})
	}
	lc, mc := ssmClient(p.LocalConfig), ssmClient(p.MotoConfig)
	for _, tc := range []struct {
		path      string
		recursive bool
		size      int32
		want      []string
	}{
		{"/app", false, 10, []string{"/app/a", "/app/b", "/app/c"}},
		{"/app/", false, 10, []string{"/app/a", "/app/b", "/app/c"}},
		{"/app", true, 10, []string{"/app/a", "/app/b", "/app/c", "/app/sub/d", "/app/sub/deep/e"}},
		{"/app", true, 2, []string{"/app/a", "/app/b", "/app/c", "/app/sub/d", "/app/sub/deep/e"}},
		{"/app/sub", false, 1, []string{"/app/sub/d"}},
		{"/none", true, 10, nil},
	} {
		ln, lp := ssmByPath(t, lc, "local cloud", tc.path, tc.recursive, tc.size)
		mn, mp := ssmByPath(t, mc, "moto", tc.path, tc.recursive, tc.size)
		sort.Strings(ln)
		sort.Strings(mn)
		if !reflect.DeepEqual(ln, tc.want) || !reflect.DeepEqual(mn, tc.want) {
			t.Errorf("%s recursive=%v: local cloud %v, moto %v; want %v", tc.path, tc.recursive, ln, mn, tc.want)
		}
		for side, pages := range map[string][]int{"local cloud": lp, "moto": mp} {
			for i, n := range pages[:len(pages)-1] {
				if n != int(tc.size) {
					t.Errorf("%s %s recursive=%v: page %d holds %d of MaxResults %d (pages %v)", side, tc.path, tc.recursive, i, n, tc.size, pages)
				}
			}
		}
	}
	// A path must begin with a slash; MaxResults is 1 to 10.
	// AWS: "Hierarchies start with a forward slash"; moto accepts "app".
	ssmDiverge(t, p, "GetParametersByPath app", ssmBadRequest("ValidationException"), outcome{}, func(c *ssm.Client) (*ssm.GetParametersByPathOutput, error) {
		return c.GetParametersByPath(context.Background(), &ssm.GetParametersByPathInput{Path: aws.String("app")})
	})
	ssmSame(t, p, "GetParametersByPath MaxResults 11", ssmBadRequest("ValidationException"), func(c *ssm.Client) (*ssm.GetParametersByPathOutput, error) {
		return c.GetParametersByPath(context.Background(), &ssm.GetParametersByPathInput{Path: aws.String("/app"), MaxResults: aws.Int32(11)})
	})
}

// ssmHistory is what a client compares of a history entry.
type ssmHistory struct {
	Name, Type, Value, DataType, Description string
	Version                                  int64
}

// GetParameterHistory lists every version oldest first, with the
// description each version carried, MaxResults at a time; an unknown
// parameter is ParameterNotFound.
func TestSSMParameterHistory(t *testing.T) {
	p := newPair(t)
	ctx := context.Background()
	ssmPut(t, p, ssm.PutParameterInput{Name: aws.String("/h/p"), Value: aws.String("v1"), Type: types.ParameterTypeString, Description: aws.String("first")})
	ssmPut(t, p, ssm.PutParameterInput{Name: aws.String("/h/p"), Value: aws.String("v2"), Overwrite: aws.Bool(true)})
	ssmPut(t, p, ssm.PutParameterInput{Name: aws.String("/h/p"), Value: aws.String("v3"), Overwrite: aws.Bool(true), Description: aws.String("third")})
	read := func(c *ssm.Client, side string, size int32) (hs []ssmHistory, pages int) {
		var token *string
		for {
			out, err := c.GetParameterHistory(ctx, &ssm.GetParameterHistoryInput{Name: aws.String("/h/p"), MaxResults: aws.Int32(size), NextToken: token})
			if err != nil {
				t.Fatalf("%s: GetParameterHistory: %v", side, err)
			}
			pages++
			for _, h := range out.Parameters {
				if h.LastModifiedDate == nil {
					t.Errorf("%s: version %d has no LastModifiedDate", side, h.Version)
				}
				hs = append(hs, ssmHistory{Name: aws.ToString(h.Name), Type: string(h.Type), Value: aws.ToString(h.Value),
					DataType: aws.ToString(h.DataType), Description: aws.ToString(h.Description), Version: h.Version})
			}
			if token = out.NextToken; token == nil || pages > 10 {
				return hs, pages
			}
		}
	}
	want := []ssmHistory{
		{"/h/p", "String", "v1", "text", "first", 1},
		{"/h/p", "String", "v2", "text", "first", 2},
		{"/h/p", "String", "v3", "text", "third", 3},
	}
	for _, size := range []int32{50, 2} {
		lh, lp := read(ssmClient(p.LocalConfig), "local cloud", size)
		mh, mp := read(ssmClient(p.MotoConfig), "moto", size)
		if !reflect.DeepEqual(lh, want) || !reflect.DeepEqual(mh, want) {
			t.Errorf("MaxResults %d:\nlocal cloud %+v\nmoto        %+v\nwant        %+v", size, lh, mh, want)
		}
		if lp != mp {
			t.Errorf("MaxResults %d: local cloud %d pages, moto %d", size, lp, mp)
		}
	}
	ssmSame(t, p, "GetParameterHistory of a missing parameter", ssmNotFound, func(c *ssm.Client) (*ssm.GetParameterHistoryOutput, error) {
		return c.GetParameterHistory(ctx, &ssm.GetParameterHistoryInput{Name: aws.String("/h/none")})
	})
}

// DeleteParameter removes every version; deleting again, or reading, is
// ParameterNotFound, and the name can be created afresh at version 1.
func TestSSMDeleteParameter(t *testing.T) {
	p := newPair(t)
	ctx := context.Background()
	ssmPut(t, p, ssm.PutParameterInput{Name: aws.String("/d/p"), Value: aws.String("v1"), Type: types.ParameterTypeString})
	ssmPut(t, p, ssm.PutParameterInput{Name: aws.String("/d/p"), Value: aws.String("v2"), Overwrite: aws.Bool(true)})
	del := func(want outcome) {
		t.Helper()
		ssmSame(t, p, "DeleteParameter", want, func(c *ssm.Client) (*ssm.DeleteParameterOutput, error) {
			return c.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String("/d/p")})
		})
	}
	del(outcome{})
	ssmGet(t, p, "/d/p", ssmNotFound)
	ssmGet(t, p, "/d/p:1", ssmNotFound)
	del(ssmNotFound)
	if v := ssmPut(t, p, ssm.PutParameterInput{Name: aws.String("/d/p"), Value: aws.String("again"), Type: types.ParameterTypeString}); v != 1 {
		t.Errorf("recreated parameter is version %d, want 1", v)
	}
}

// ssmMeta is what a client compares of DescribeParameters' metadata.
type ssmMeta struct {
	Name, Type, DataType, Tier, Description string
	Version                                 int64
}

// ssmDescribe pages through DescribeParameters on one side.
func ssmDescribe(t *testing.T, c *ssm.Client, side string, in ssm.DescribeParametersInput) []ssmMeta {
	t.Helper()
	out := []ssmMeta{}
	for range 20 {
		cp := in
		page, err := c.DescribeParameters(context.Background(), &cp)
		if err != nil {
			t.Fatalf("%s: DescribeParameters %+v: %v", side, in, err)
		}
		for _, m := range page.Parameters {
			if m.LastModifiedDate == nil {
				t.Errorf("%s: %s has no LastModifiedDate", side, aws.ToString(m.Name))
			}
			out = append(out, ssmMeta{Name: aws.ToString(m.Name), Type: string(m.Type), DataType: aws.ToString(m.DataType),
				Tier: string(m.Tier), Description: aws.ToString(m.Description), Version: m.Version})
		}
		if in.NextToken = page.NextToken; in.NextToken == nil {
			sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
			return out
		}
	}
	t.Fatalf("%s: DescribeParameters did not end in 20 pages", side)
	return nil
}

// DescribeParameters lists metadata (latest version, type, data type,
// tier), filtered by the legacy Filters or by ParameterFilters.
func TestSSMDescribeParameters(t *testing.T) {
	p := newPair(t)
	ssmPut(t, p, ssm.PutParameterInput{Name: aws.String("/app/a"), Value: aws.String("a"), Type: types.ParameterTypeString, Description: aws.String("the a")})
	ssmPut(t, p, ssm.PutParameterInput{Name: aws.String("/app/a"), Value: aws.String("a2"), Overwrite: aws.Bool(true)})
	ssmPut(t, p, ssm.PutParameterInput{Name: aws.String("/app/list"), Value: aws.String("x,y"), Type: types.ParameterTypeStringList})
	ssmPut(t, p, ssm.PutParameterInput{Name: aws.String("/app/sub/c"), Value: aws.String("c"), Type: types.ParameterTypeString})
	ssmPut(t, p, ssm.PutParameterInput{Name: aws.String("top"), Value: aws.String("t"), Type: types.ParameterTypeString})
	a := ssmMeta{"/app/a", "String", "text", "Standard", "the a", 2}
	list := ssmMeta{"/app/list", "StringList", "text", "Standard", "", 1}
	c := ssmMeta{"/app/sub/c", "String", "text", "Standard", "", 1}
	top := ssmMeta{"top", "String", "text", "Standard", "", 1}
	str := func(key, option string, values ...string) types.ParameterStringFilter {
		f := types.ParameterStringFilter{Key: aws.String(key), Values: values}
		if option != "" {
			f.Option = aws.String(option)
		}
		return f
	}
	for _, tc := range []struct {
		what string
		in   ssm.DescribeParametersInput
		want []ssmMeta
	}{
		{"all", ssm.DescribeParametersInput{}, []ssmMeta{a, list, c, top}},
		{"all, 1 a page", ssm.DescribeParametersInput{MaxResults: aws.Int32(1)}, []ssmMeta{a, list, c, top}},
		{"Filters Name", ssm.DescribeParametersInput{Filters: []types.ParametersFilter{{Key: types.ParametersFilterKeyName, Values: []string{"/app/l"}}}}, []ssmMeta{list}},
		{"Filters Type", ssm.DescribeParametersInput{Filters: []types.ParametersFilter{{Key: types.ParametersFilterKeyType, Values: []string{"StringList"}}}}, []ssmMeta{list}},
		{"Name Equals", ssm.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{str("Name", "Equals", "/app/a", "top")}}, []ssmMeta{a, top}},
		{"Name BeginsWith", ssm.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{str("Name", "BeginsWith", "/app/s")}}, []ssmMeta{c}},
		{"Name Contains", ssm.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{str("Name", "Contains", "is")}}, []ssmMeta{list}},
		{"Type", ssm.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{str("Type", "Equals", "String")}}, []ssmMeta{a, c, top}},
		{"Path OneLevel", ssm.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{str("Path", "OneLevel", "/app")}}, []ssmMeta{a, list}},
		{"Path Recursive", ssm.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{str("Path", "Recursive", "/app")}}, []ssmMeta{a, list, c}},
		{"Path and Type", ssm.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{str("Path", "Recursive", "/app"), str("Type", "Equals", "String")}}, []ssmMeta{a, c}},
	} {
		l := ssmDescribe(t, ssmClient(p.LocalConfig), "local cloud", tc.in)
		m := ssmDescribe(t, ssmClient(p.MotoConfig), "moto", tc.in)
		if !reflect.DeepEqual(l, tc.want) || !reflect.DeepEqual(m, tc.want) {
			t.Errorf("%s:\nlocal cloud %+v\nmoto        %+v\nwant        %+v", tc.what, l, m, tc.want)
		}
	}
	// The DataType key is in the API's ParameterStringFilter pattern
	// (tag:.+|Name|Type|KeyId|Path|Label|Tier|DataType); moto's copy of the
	// pattern lacks it and refuses the filter.
	dt := ssm.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{str("DataType", "Equals", "text")}}
	if l := ssmDescribe(t, ssmClient(p.LocalConfig), "local cloud", dt); !reflect.DeepEqual(l, []ssmMeta{a, list, c, top}) {
		t.Errorf("DataType filter: local cloud %+v", l)
	}
	ssmDiverge(t, p, "DescribeParameters DataType filter", outcome{}, ssmBadRequest("ValidationException"), func(c *ssm.Client) (*ssm.DescribeParametersOutput, error) {
		return c.DescribeParameters(context.Background(), &dt)
	})
	// Filters and ParameterFilters together are refused.
	ssmSame(t, p, "Filters with ParameterFilters", ssmBadRequest("ValidationException"), func(c *ssm.Client) (*ssm.DescribeParametersOutput, error) {
		return c.DescribeParameters(context.Background(), &ssm.DescribeParametersInput{
			Filters:          []types.ParametersFilter{{Key: types.ParametersFilterKeyName, Values: []string{"/app"}}},
			ParameterFilters: []types.ParameterStringFilter{str("Type", "Equals", "String")},
		})
	})
}

// An aws:ec2:image parameter whose value names no AMI. AWS validates the
// value asynchronously: PutParameter answers with the version the write
// would get, the parameter is not created, and a "Parameter Store Change"
// event carries the failure (Systems Manager user guide, "Native parameter
// support for Amazon Machine Image IDs"). moto does not validate AMIs and
// creates the parameter (docs/local-cloud-vs-moto.md).
func TestSSMImageDataTypeValidation(t *testing.T) {
	p := newPair(t)
	put := ssm.PutParameterInput{Name: aws.String("/golden/ami"), Value: aws.String("ami-0123456789abcdef0"), Type: types.ParameterTypeString, DataType: aws.String("aws:ec2:image")}
	if v := ssmPut(t, p, put); v != 1 {
		t.Fatalf("PutParameter answered version %d, want 1", v)
	}
	p.Local.Advance(0)
	p.Local.Settle()
	l, m, lo, mo := both(t, p, ssmClient, func(c *ssm.Client) (*ssm.GetParameterOutput, error) {
		return c.GetParameter(context.Background(), &ssm.GetParameterInput{Name: put.Name})
	})
	_ = l
	if lo != ssmNotFound {
		t.Errorf("local cloud: GetParameter after a failed AMI validation %+v, want ParameterNotFound (not created)", lo)
	}
	if mo != (outcome{}) || aws.ToString(m.Parameter.DataType) != "aws:ec2:image" || aws.ToString(m.Parameter.Value) != *put.Value {
		t.Errorf("moto: GetParameter %+v %+v; the documented moto answer is the unvalidated parameter", mo, m)
	}
	// An unknown data type is refused synchronously by both.
	ssmSame(t, p, "PutParameter DataType aws:ec2:vpc", ssmBadRequest("ValidationException"), func(c *ssm.Client) (*ssm.PutParameterOutput, error) {
		return c.PutParameter(context.Background(), &ssm.PutParameterInput{Name: aws.String("/golden/vpc"), Value: aws.String("vpc-1"), Type: types.ParameterTypeString, DataType: aws.String("aws:ec2:vpc")})
	})
}

// A parameter keeps 100 versions: the 101st write drops the oldest, unless
// the oldest carries a label (ParameterMaxVersionLimitExceeded); moving
// the label away lets the write through. LabelParameterVersion takes 1 to
// 10 labels of at most 100 characters a call.
func TestSSMParameterVersionAndLabelLimits(t *testing.T) {
	p := newPair(t)
	ctx := context.Background()
	for i := 1; i <= 100; i++ {
		in := ssm.PutParameterInput{Name: aws.String("/lim/p"), Value: aws.String(fmt.Sprint("v", i)), Type: types.ParameterTypeString}
		if i > 1 {
			in.Overwrite = aws.Bool(true)
		}
		if v := ssmPut(t, p, in); v != int64(i) {
			t.Fatalf("put %d answered version %d", i, v)
		}
	}
	label := func(version int64, want outcome, labels ...string) {
		t.Helper()
		ssmSame(t, p, fmt.Sprintf("LabelParameterVersion %d %d labels", version, len(labels)), want, func(c *ssm.Client) (*ssm.LabelParameterVersionOutput, error) {
			return c.LabelParameterVersion(ctx, &ssm.LabelParameterVersionInput{Name: aws.String("/lim/p"), ParameterVersion: aws.Int64(version), Labels: labels})
		})
	}
	label(1, outcome{}, "keep")
	ssmSame(t, p, "101st version with a labelled oldest", ssmBadRequest("ParameterMaxVersionLimitExceeded"), func(c *ssm.Client) (*ssm.PutParameterOutput, error) {
		return c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/lim/p"), Value: aws.String("v101"), Overwrite: aws.Bool(true)})
	})
	label(2, outcome{}, "keep")
	if v := ssmPut(t, p, ssm.PutParameterInput{Name: aws.String("/lim/p"), Value: aws.String("v101"), Overwrite: aws.Bool(true)}); v != 101 {
		t.Fatalf("101st put answered version %d", v)
	}
	ssmGet(t, p, "/lim/p:1", ssmVersionNotFound)
	if got := ssmGet(t, p, "/lim/p:keep", outcome{}); got.Version != 2 {
		t.Errorf("name:keep is version %d, want 2", got.Version)
	}
	eleven := []string{"a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8", "a9", "a10"}
	// Eleven labels in one call break the request's documented constraint
	// (Labels: 1 to 10 items), a ValidationException; moto answers
	// ParameterVersionLabelLimitExceeded, the error for a version's label
	// count.
	ssmDiverge(t, p, "LabelParameterVersion with 11 labels", ssmBadRequest("ValidationException"), ssmBadRequest("ParameterVersionLabelLimitExceeded"), func(c *ssm.Client) (*ssm.LabelParameterVersionOutput, error) {
		return c.LabelParameterVersion(ctx, &ssm.LabelParameterVersionInput{Name: aws.String("/lim/p"), ParameterVersion: aws.Int64(3), Labels: eleven})
	})
	long := strings.Repeat("x", 101)
	label(3, ssmBadRequest("ValidationException"), long)
}
