package deploy

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/keys"
)

// KeyStore receives the KMS keys and aliases a template declares
// (*keys.Store fits). The local cloud serves no KMS API, so these are the
// key store's own methods rather than SDK signatures.
type KeyStore interface {
	CreateKey(region string, in keys.KeyInput) (keys.Key, error)
	CreateAlias(region, alias, targetKeyID string) (string, error)
}

// kmsKeyProps are the AWS::KMS::Key properties the local cloud applies.
// Origin (imported material), RotationPeriodInDays and custom key stores
// are not modelled and so not accepted.
var kmsKeyProps = []string{"KeyPolicy", "Description", "Enabled", "EnableKeyRotation", "KeySpec", "KeyUsage",
	"PendingWindowInDays", "MultiRegion", "Tags", "BypassPolicyLockoutSafetyCheck"}

// kmsKey creates an AWS::KMS::Key: Ref is its key id, GetAtt Arn and KeyId
// its ARN and id. KeyPolicy is a policy document (a mapping, or a string of
// JSON); without one the key gets KMS's default policy. A policy the local
// cloud cannot judge, or one that would lock the account out of the key,
// fails the deployment as CloudFormation's would, with KMS's
// MalformedPolicyDocumentException.
func (d *deployer) kmsKey(r Resource, p map[string]any) (*Deployed, error) {
	if d.cl.KMS == nil {
		return nil, fmt.Errorf("the deployment has no key store for KMS keys (Clients.KMS)")
	}
	var in keys.KeyInput
	switch pol := p["KeyPolicy"].(type) {
	case nil:
	case string:
		in.Policy = pol
	case map[string]any:
		b, err := json.Marshal(pol)
		if err != nil {
			return nil, fmt.Errorf("KeyPolicy: %w", err)
		}
		in.Policy = string(b)
	default:
		return nil, fmt.Errorf("KeyPolicy: want a policy document, got %T", pol)
	}
	in.Description, in.KeySpec, in.KeyUsage = str(p, "Description"), str(p, "KeySpec"), str(p, "KeyUsage")
	enabled := true
	for _, b := range []struct {
		key string
		dst *bool
	}{{"Enabled", &enabled}, {"EnableKeyRotation", &in.EnableKeyRotation}, {"MultiRegion", &in.MultiRegion},
		{"BypassPolicyLockoutSafetyCheck", &in.BypassPolicyLockoutSafetyCheck}} {
		if p[b.key] == nil {
			continue
		}
		v, err := strconv.ParseBool(str(p, b.key))
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not a boolean", b.key, str(p, b.key))
		}
		*b.dst = v
	}
	in.Disabled = !enabled
	window, err := intOf(p, "PendingWindowInDays")
	if err != nil {
		return nil, err
	}
	if window != nil {
		in.PendingWindowInDays = *window
	}
	if tags, ok := p["Tags"].([]any); ok {
		in.Tags = map[string]string{}
		for i, t := range tags {
			m, ok := t.(map[string]any)
			if !ok || m["Key"] == nil {
				return nil, fmt.Errorf("Tags[%d]: want a mapping with Key and Value", i)
			}
			in.Tags[str(m, "Key")] = str(m, "Value")
		}
	} else if p["Tags"] != nil {
		return nil, fmt.Errorf("Tags: want a list, got %T", p["Tags"])
	}
	k, err := d.cl.KMS.CreateKey(d.opts.Region, in)
	if err != nil {
		return nil, err
	}
	return &Deployed{PhysicalID: k.ID, Attrs: map[string]string{"Arn": k.ARN, "KeyId": k.ID}}, nil
}

// kmsAlias creates an AWS::KMS::Alias: Ref is the alias name. TargetKeyId
// is a key id or ARN, usually !Ref or !GetAtt of an AWS::KMS::Key.
func (d *deployer) kmsAlias(r Resource, p map[string]any) (*Deployed, error) {
	if d.cl.KMS == nil {
		return nil, fmt.Errorf("the deployment has no key store for KMS aliases (Clients.KMS)")
	}
	name, target := str(p, "AliasName"), str(p, "TargetKeyId")
	switch {
	case name == "":
		return nil, fmt.Errorf("AliasName is required")
	case target == "":
		return nil, fmt.Errorf("TargetKeyId is required")
	}
	if _, err := d.cl.KMS.CreateAlias(d.opts.Region, name, target); err != nil {
		return nil, err
	}
	return &Deployed{PhysicalID: name, Attrs: map[string]string{}}, nil
}
