package params_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/phoenix-rollouts/phoenix/shared/params"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/cloudtest"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/faults"
)

const name = "/phoenix/freeze"

// put writes a parameter through the SDK, as an operator would.
func put(t *testing.T, env *cloudtest.Env, name, value string, typ ssmtypes.ParameterType) {
	t.Helper()
	if _, err := env.SSM.PutParameter(context.Background(), &ssm.PutParameterInput{
		Name: aws.String(name), Value: aws.String(value), Type: typ, Overwrite: aws.Bool(true),
	}); err != nil {
		t.Fatalf("put parameter %s: %v", name, err)
	}
}

func TestValue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("a parameter's current value is read", func(t *testing.T) {
		t.Parallel()
		env := cloudtest.New(t)
		put(t, env, name, "true", ssmtypes.ParameterTypeString)
		put(t, env, name, "2026-12-20T00:00:00Z/2027-01-04T00:00:00Z", ssmtypes.ParameterTypeString)
		got, err := params.NewFromConfig(env.Config).Value(ctx, "us-east-1", name)
		if err != nil || got != "2026-12-20T00:00:00Z/2027-01-04T00:00:00Z" {
			t.Fatalf("got %q, %v; want the second version's value", got, err)
		}
	})
	t.Run("a missing parameter is an empty value, not an error", func(t *testing.T) {
		t.Parallel()
		env := cloudtest.New(t)
		got, err := params.NewFromConfig(env.Config).Value(ctx, "us-east-1", name)
		if err != nil || got != "" {
			t.Fatalf("got %q, %v", got, err)
		}
	})
	t.Run("the parameter is read in the region asked for", func(t *testing.T) {
		t.Parallel()
		env := cloudtest.New(t)
		put(t, env.InRegion("eu-west-1"), name, "on", ssmtypes.ParameterTypeString)
		r := params.NewFromConfig(env.Config) // a client configured for us-east-1
		if got, err := r.Value(ctx, "eu-west-1", name); err != nil || got != "on" {
			t.Fatalf("eu-west-1: got %q, %v", got, err)
		}
		if got, err := r.Value(ctx, "us-east-1", name); err != nil || got != "" {
			t.Fatalf("us-east-1: got %q, %v; parameters are regional", got, err)
		}
	})
	t.Run("a SecureString comes back undecrypted", func(t *testing.T) {
		t.Parallel()
		env := cloudtest.New(t)
		put(t, env, name, "true", ssmtypes.ParameterTypeSecureString)
		got, err := params.NewFromConfig(env.Config).Value(ctx, "us-east-1", name)
		if err != nil || got == "true" {
			t.Fatalf("got %q, %v; want the ciphertext, which no freeze parser accepts", got, err)
		}
	})
	t.Run("throttling is a TransientError", func(t *testing.T) {
		t.Parallel()
		env := cloudtest.New(t)
		if _, err := env.Cloud.Faults.Add(faults.Rule{Kind: faults.Throttle, Service: "ssm", Operation: "GetParameter"}); err != nil {
			t.Fatal(err)
		}
		cfg := env.Config.Copy()
		cfg.RetryMaxAttempts = 1
		_, err := params.NewFromConfig(cfg).Value(ctx, "us-east-1", name)
		if !rollout.IsTransient(err) {
			t.Fatalf("error %v (%T), want a TransientError", err, err)
		}
	})
	t.Run("a single throttle is absorbed by the client's own retries", func(t *testing.T) {
		t.Parallel()
		env := cloudtest.New(t)
		put(t, env, name, "true", ssmtypes.ParameterTypeString)
		if _, err := env.Cloud.Faults.Add(faults.Rule{Kind: faults.Throttle, Service: "ssm", Operation: "GetParameter", Times: 1}); err != nil {
			t.Fatal(err)
		}
		if got, err := params.NewFromConfig(env.Config).Value(ctx, "us-east-1", name); err != nil || got != "true" {
			t.Fatalf("got %q, %v", got, err)
		}
	})
	t.Run("access denied is an error, neither transient nor an empty value", func(t *testing.T) {
		t.Parallel()
		env := cloudtest.New(t)
		if _, err := env.Cloud.Faults.Add(faults.Rule{Kind: faults.ServerError, Service: "ssm", Operation: "GetParameter",
			Status: 400, Code: "AccessDeniedException", Message: "not authorized to perform ssm:GetParameter"}); err != nil {
			t.Fatal(err)
		}
		got, err := params.NewFromConfig(env.Config).Value(ctx, "us-east-1", name)
		var nf *rollout.NotFoundError
		if err == nil || rollout.IsTransient(err) || errors.As(err, &nf) || got != "" {
			t.Fatalf("got %q, %v (%T)", got, err, err)
		}
	})
}

func TestParameter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("a parameter's current version is read with its data type", func(t *testing.T) {
		t.Parallel()
		env := cloudtest.New(t)
		put(t, env, name, "true", ssmtypes.ParameterTypeString)
		put(t, env, name, "false", ssmtypes.ParameterTypeString)
		got, err := params.NewFromConfig(env.Config).Parameter(ctx, "us-east-1", name)
		want := params.Parameter{Name: name, Value: "false", DataType: "text", Version: 2}
		if err != nil || got != want {
			t.Fatalf("got %+v, %v; want %+v", got, err, want)
		}
	})
	t.Run("a missing parameter is a NotFoundError, not an empty value", func(t *testing.T) {
		t.Parallel()
		env := cloudtest.New(t)
		got, err := params.NewFromConfig(env.Config).Parameter(ctx, "us-east-1", name)
		var nf *rollout.NotFoundError
		if !errors.As(err, &nf) || nf.ID != name {
			t.Fatalf("got %+v, %v (%T); want a NotFoundError naming %s", got, err, err, name)
		}
	})
	t.Run("the parameter is read in the region asked for", func(t *testing.T) {
		t.Parallel()
		env := cloudtest.New(t)
		put(t, env.InRegion("eu-west-1"), name, "on", ssmtypes.ParameterTypeString)
		r := params.NewFromConfig(env.Config)
		if got, err := r.Parameter(ctx, "eu-west-1", name); err != nil || got.Value != "on" {
			t.Fatalf("eu-west-1: got %+v, %v", got, err)
		}
		var nf *rollout.NotFoundError
		if _, err := r.Parameter(ctx, "us-east-1", name); !errors.As(err, &nf) {
			t.Fatalf("us-east-1: got %v; parameters are regional", err)
		}
	})
	t.Run("throttling is a TransientError", func(t *testing.T) {
		t.Parallel()
		env := cloudtest.New(t)
		if _, err := env.Cloud.Faults.Add(faults.Rule{Kind: faults.Throttle, Service: "ssm", Operation: "GetParameter"}); err != nil {
			t.Fatal(err)
		}
		cfg := env.Config.Copy()
		cfg.RetryMaxAttempts = 1
		if _, err := params.NewFromConfig(cfg).Parameter(ctx, "us-east-1", name); !rollout.IsTransient(err) {
			t.Fatalf("error %v (%T), want a TransientError", err, err)
		}
	})
}
