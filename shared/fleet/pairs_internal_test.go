package fleet

import (
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/phoenix-rollouts/phoenix/shared/bluegreen"
)

const (
	blueTG  = "arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/web-blue/1"
	greenTG = "arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/web-green/2"
)

// The local cloud answers forward actions as ELB does today and refuses
// authentication actions, so the forms it never answers (a forward without
// a ForwardConfig, a tuple without a weight, an OIDC action before the
// forward) are held here, on the mapping itself.
func TestForwardActionsReadInEveryForm(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		action elbtypes.Action
		want   []bluegreen.WeightedTargetGroup
		ok     bool
	}{
		{"the target group ARN alone is weight 1",
			elbtypes.Action{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(blueTG)},
			[]bluegreen.WeightedTargetGroup{{ARN: blueTG, Weight: 1}}, true},
		{"both forms read the ForwardConfig's weight",
			elbtypes.Action{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(blueTG), ForwardConfig: &elbtypes.ForwardActionConfig{
				TargetGroups: []elbtypes.TargetGroupTuple{{TargetGroupArn: aws.String(blueTG), Weight: aws.Int32(7)}}}},
			[]bluegreen.WeightedTargetGroup{{ARN: blueTG, Weight: 7}}, true},
		{"a tuple without a weight has ELB's default, 1",
			elbtypes.Action{Type: elbtypes.ActionTypeEnumForward, ForwardConfig: &elbtypes.ForwardActionConfig{
				TargetGroups: []elbtypes.TargetGroupTuple{{TargetGroupArn: aws.String(blueTG), Weight: aws.Int32(0)}, {TargetGroupArn: aws.String(greenTG)}}}},
			[]bluegreen.WeightedTargetGroup{{ARN: blueTG, Weight: 0}, {ARN: greenTG, Weight: 1}}, true},
		{"a fixed response forwards nowhere",
			elbtypes.Action{Type: elbtypes.ActionTypeEnumFixedResponse, FixedResponseConfig: &elbtypes.FixedResponseActionConfig{StatusCode: aws.String("404")}},
			nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := forwardGroups(tc.action)
			if ok != tc.ok || !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, %v; want %v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestWeightsAreWrittenIntoTheActionsAsRead(t *testing.T) {
	t.Parallel()
	oidc := &elbtypes.AuthenticateOidcActionConfig{
		Issuer: aws.String("https://idp.example.com"), ClientId: aws.String("phoenix"),
		AuthorizationEndpoint: aws.String("https://idp.example.com/auth"), TokenEndpoint: aws.String("https://idp.example.com/token"),
		UserInfoEndpoint: aws.String("https://idp.example.com/userinfo"), Scope: aws.String("openid"),
	}
	read := []elbtypes.Action{
		{Type: elbtypes.ActionTypeEnumAuthenticateOidc, Order: aws.Int32(1), AuthenticateOidcConfig: oidc},
		{Type: elbtypes.ActionTypeEnumForward, Order: aws.Int32(2), TargetGroupArn: aws.String(blueTG), ForwardConfig: &elbtypes.ForwardActionConfig{
			TargetGroups:                []elbtypes.TargetGroupTuple{{TargetGroupArn: aws.String(blueTG), Weight: aws.Int32(1)}},
			TargetGroupStickinessConfig: &elbtypes.TargetGroupStickinessConfig{Enabled: aws.Bool(true), DurationSeconds: aws.Int32(60)},
		}},
	}
	tuples := []elbtypes.TargetGroupTuple{{TargetGroupArn: aws.String(blueTG), Weight: aws.Int32(90)}, {TargetGroupArn: aws.String(greenTG), Weight: aws.Int32(10)}}
	got, err := withWeights(read, tuples)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("%d actions, want 2", len(got))
	}
	t.Run("an OIDC action read without its secret keeps the one ELB has", func(t *testing.T) {
		a := got[0]
		if a.Type != elbtypes.ActionTypeEnumAuthenticateOidc || aws.ToInt32(a.Order) != 1 || a.AuthenticateOidcConfig == nil ||
			!aws.ToBool(a.AuthenticateOidcConfig.UseExistingClientSecret) || aws.ToString(a.AuthenticateOidcConfig.Issuer) != "https://idp.example.com" {
			t.Errorf("OIDC action written as %+v", a)
		}
		if oidc.UseExistingClientSecret != nil {
			t.Error("the action as read was changed")
		}
	})
	t.Run("the forward keeps its order and stickiness, as a ForwardConfig alone", func(t *testing.T) {
		a := got[1]
		gs, _ := forwardGroups(a)
		st := a.ForwardConfig.TargetGroupStickinessConfig
		if aws.ToInt32(a.Order) != 2 || a.TargetGroupArn != nil ||
			!slices.Equal(gs, []bluegreen.WeightedTargetGroup{{ARN: blueTG, Weight: 90}, {ARN: greenTG, Weight: 10}}) ||
			st == nil || !aws.ToBool(st.Enabled) || aws.ToInt32(st.DurationSeconds) != 60 {
			t.Errorf("forward written as %+v (%v)", a, gs)
		}
	})
	t.Run("an OIDC action read with a secret is written back with it", func(t *testing.T) {
		withSecret := slices.Clone(read)
		cfg := *oidc
		cfg.ClientSecret = aws.String("s3cret")
		withSecret[0].AuthenticateOidcConfig = &cfg
		got, err := withWeights(withSecret, tuples)
		if err != nil {
			t.Fatal(err)
		}
		if c := got[0].AuthenticateOidcConfig; aws.ToString(c.ClientSecret) != "s3cret" || c.UseExistingClientSecret != nil {
			t.Errorf("OIDC action written as %+v", c)
		}
	})
	t.Run("two forward actions are refused", func(t *testing.T) {
		if _, err := withWeights(append(slices.Clone(read), read[1]), tuples); err == nil {
			t.Error("no error")
		}
	})
}
