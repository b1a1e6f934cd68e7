package wire

import (
	"context"
	"reflect"
	"testing"
)

// TestEveryServedOperationCarriesEveryMemberBothWays sends a fully
// populated input from the real SDK client through the server to a fake
// model, and a fully populated output back; both must arrive unchanged.
func TestEveryServedOperationCarriesEveryMemberBothWays(t *testing.T) {
	cloud := newTestCloud(t, Options{})
	for _, tc := range operationsOf() {
		t.Run(tc.service+" "+tc.op+" arrives intact in both directions", func(t *testing.T) {
			client := cloud.client(tc.module, 1)
			m, _ := reflect.TypeOf(client).MethodByName(tc.op)
			in := reflect.New(m.Type.In(2).Elem())
			inFill := &filler{dir: request}
			inFill.fill(in.Elem(), 0)
			want := reflect.New(m.Type.Out(0).Elem())
			outFill := &filler{dir: response, n: 100000}
			outFill.fill(want.Elem(), 0)

			cloud.rec.answer(want.Interface(), nil)
			got, err := invoke(context.Background(), client, tc.op, in.Interface())
			if err != nil {
				t.Fatalf("%s: %v", tc.op, err)
			}
			op, gotIn, req, _ := cloud.rec.last()
			if op != tc.op {
				t.Fatalf("the model saw operation %q, want %q", op, tc.op)
			}
			if d := diff("input", in, reflect.ValueOf(gotIn)); d != "" {
				t.Errorf("the input changed on the way to the model: %s", d)
			}
			gv := reflect.ValueOf(got).Elem()
			gv.FieldByName("ResultMetadata").SetZero()
			if d := diff("output", want, reflect.ValueOf(got)); d != "" {
				t.Errorf("the output changed on the way to the client: %s", d)
			}
			wantRegion := "eu-west-1"
			if tc.op == "PutEvents" {
				// With EndpointId set the client signs with SigV4a for
				// region set "*": the request names no region.
				wantRegion = "us-east-1"
			}
			if req.Region != wantRegion || req.Service != tc.service || req.Operation != tc.op || req.RequestID != "req-1" || req.Account != "123456789012" {
				t.Errorf("the model's request context is %+v", req)
			}
		})
	}
}
