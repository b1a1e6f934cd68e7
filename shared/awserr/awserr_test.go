package awserr

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/smithy-go"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

func TestClassify(t *testing.T) {
	cases := []struct {
		name      string
		err       error
		transient bool
		notFound  bool
	}{
		{"throttling is transient", &smithy.GenericAPIError{Code: "Throttling", Fault: smithy.FaultClient}, true, false},
		{"EC2's RequestLimitExceeded is transient", &smithy.GenericAPIError{Code: "RequestLimitExceeded"}, true, false},
		{"a server fault is transient", &smithy.GenericAPIError{Code: "Whatever", Fault: smithy.FaultServer}, true, false},
		{"a deadline is transient", fmt.Errorf("call: %w", context.DeadlineExceeded), true, false},
		{"a validation error is not transient", &smithy.GenericAPIError{Code: "ValidationError", Fault: smithy.FaultClient}, false, false},
		{"a listed not-found code is a NotFoundError", &smithy.GenericAPIError{Code: "InvalidAMIID.NotFound"}, false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := Classify("describe", tc.err, "image", "ami-1", "InvalidAMIID.NotFound")
			var tr *rollout.TransientError
			var nf *rollout.NotFoundError
			if got := errors.As(err, &tr); got != tc.transient {
				t.Errorf("transient = %v, want %v (%v)", got, tc.transient, err)
			}
			if got := errors.As(err, &nf); got != tc.notFound {
				t.Errorf("not found = %v, want %v (%v)", got, tc.notFound, err)
			}
			if !errors.Is(err, tc.err) && !tc.notFound {
				t.Errorf("the cause is lost: %v", err)
			}
		})
	}
	if Classify("x", nil, "", "") != nil {
		t.Fatal("nil must stay nil")
	}
}
