// Package keys is the local cloud's model of AWS KMS keys as the other
// services use them: customer managed keys with their key policies and
// aliases, which deployments create (AWS::KMS::Key, AWS::KMS::Alias), and
// the AWS managed key of SNS, alias/aws/sns. It holds no key material and
// encrypts nothing; it answers the questions a service asks KMS when it
// uses a key on a caller's behalf: which key does this id name, is it
// enabled, and may this caller use it (Store.Authorize)?
//
// No KMS API is served: a KMS client pointed at the local cloud gets no
// answer, and keys exist only as a deployment or a test creates them.
//
// # What is modelled
//
//   - Key ids are version-4-shaped UUIDs drawn from the cloud's seed, so a
//     run repeats; ARNs are arn:aws:kms:REGION:ACCOUNT:key/ID.
//   - Resolve finds a key from a key id, a key ARN, an alias name
//     (alias/NAME) or an alias ARN, in the region a service asks about, as
//     SNS's KmsMasterKeyId may give it.
//   - alias/aws/sns is the AWS managed key for SNS, made on first use in
//     each region with the key policy AWS gives it ("auto-sns-1"): every
//     principal of the account may use it through SNS (kms:CallerAccount
//     and kms:ViaService conditions), and no service principal may. Other
//     alias/aws/ names are not modelled and are not found.
//   - Key policies are resource-based policies (iam.ParseResourcePolicy).
//     Authorize decides as KMS does: the key policy must allow the action,
//     either naming the caller (a role, "*", a service principal) or naming
//     the account, which delegates to IAM so that the caller's
//     identity-based policies must allow it too; an explicit Deny in either
//     wins.
//   - A new key's policy must pass KMS's policy lockout safety check unless
//     BypassPolicyLockoutSafetyCheck is set: it must let the account (the
//     administrator deploying it) call kms:PutKeyPolicy, or KMS answers
//     MalformedPolicyDocumentException "The new key policy will not allow
//     you to update the key policy in the future."
//
// Grants, key rotation, deletion and its pending window, multi-Region
// replicas, imported key material, custom key stores and asymmetric or HMAC
// key use are not modelled: their properties are checked and stored only.
package keys

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/iam"
)

// ManagedSNSAlias is the alias of the AWS managed key for SNS.
const ManagedSNSAlias = "alias/aws/sns"

// Options configures a Store.
type Options struct {
	// Account owns the keys ("123456789012" if empty).
	Account string
	// Seed makes key ids and request ids repeatable.
	Seed uint64
}

// Store holds the keys and aliases of every region. It is safe for
// concurrent use.
type Store struct {
	account string
	seed    uint64

	mu sync.Mutex
	// rng draws key ids and requests the ids of failed requests: two
	// sources, so that a refusal does not change the ids of later keys.
	rng, requests *rand.Rand
	keys          map[string]*Key   // by key ARN
	aliases       map[string]string // alias ARN to key ARN
}

// New returns a Store with no customer managed keys.
func New(opts Options) *Store {
	acct := opts.Account
	if acct == "" {
		acct = "123456789012"
	}
	return &Store{account: acct, seed: opts.Seed, rng: rand.New(rand.NewPCG(opts.Seed, 0x6b6d73)),
		requests: rand.New(rand.NewPCG(opts.Seed, 0x726571)), keys: map[string]*Key{}, aliases: map[string]string{}}
}

// Account returns the account that owns the keys.
func (s *Store) Account() string { return s.account }

// Key is one key as Resolve returns it: a copy, safe to keep.
type Key struct {
	ID, ARN, Region string
	Description     string
	Enabled         bool
	// Managed marks an AWS managed key (alias/aws/sns).
	Managed bool
	// Policy is the key policy as JSON.
	Policy              string
	KeySpec, KeyUsage   string
	RotationEnabled     bool
	PendingWindowInDays int32
	MultiRegion         bool
	Tags                map[string]string

	policy *iam.Policy
}

// KeyInput describes a key to create, as AWS::KMS::Key's properties do.
type KeyInput struct {
	// Policy is the key policy as JSON; empty gives KMS's default key
	// policy, which lets the account administer and use the key through
	// IAM.
	Policy      string
	Description string
	// Disabled creates the key disabled (AWS::KMS::Key Enabled: false).
	Disabled bool
	// KeySpec is SYMMETRIC_DEFAULT if empty; KeyUsage ENCRYPT_DECRYPT.
	KeySpec, KeyUsage string
	EnableKeyRotation bool
	// PendingWindowInDays is 7 to 30; 0 means the default, 30.
	PendingWindowInDays int32
	MultiRegion         bool
	Tags                map[string]string
	// BypassPolicyLockoutSafetyCheck skips the lockout check, as the
	// CreateKey parameter of that name does.
	BypassPolicyLockoutSafetyCheck bool
}

// Error is a KMS error: Code is KMS's exception name (NotFoundException,
// DisabledException, KMSInvalidStateException, AccessDeniedException,
// MalformedPolicyDocumentException, AlreadyExistsException,
// ValidationException) and Message its message. A service that used the
// key on a caller's behalf reports it as ServiceMessage.
type Error struct {
	Code, Message string
	// RequestID is the id of the KMS request that failed.
	RequestID string
	// Denied is the refusal behind an AccessDeniedException, for IAM's
	// record of denials.
	Denied *iam.AccessDenied
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Unwrap returns the refusal behind an AccessDeniedException, if any.
func (e *Error) Unwrap() error {
	if e.Denied == nil {
		return nil
	}
	return e.Denied
}

// ServiceMessage is the message AWS services built on the AWS SDK for Java
// pass on from a failed KMS call, as SNS's KMS errors carry it:
// "MESSAGE (Service: AWSKMS; Status Code: 400; Error Code: CODE; Request
// ID: ID; Proxy: null)".
func (e *Error) ServiceMessage() string {
	return fmt.Sprintf("%s (Service: AWSKMS; Status Code: 400; Error Code: %s; Request ID: %s; Proxy: null)", e.Message, e.Code, e.RequestID)
}

// newError makes an Error with a request id; mu is held.
func (s *Store) newError(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), RequestID: uuidFrom(s.requests.Uint64(), s.requests.Uint64())}
}

// uuid returns a version-4-shaped UUID from the seeded source; mu is held.
func (s *Store) uuid() string { return uuidFrom(s.rng.Uint64(), s.rng.Uint64()) }

// uuidFrom shapes 128 bits as a version-4 UUID.
func uuidFrom(a, b uint64) string {
	a = (a &^ 0xf000) | 0x4000
	b = (b &^ (0xc << 60)) | (0x8 << 60)
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", a>>32, (a>>16)&0xffff, a&0xffff, b>>48, b&0xffffffffffff)
}

// The key specs and usages KMS accepts.
var (
	keySpecs = []string{"SYMMETRIC_DEFAULT", "RSA_2048", "RSA_3072", "RSA_4096", "ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521",
		"ECC_SECG_P256K1", "HMAC_224", "HMAC_256", "HMAC_384", "HMAC_512", "SM2", "ML_DSA_44", "ML_DSA_65", "ML_DSA_87"}
	keyUsages = []string{"ENCRYPT_DECRYPT", "SIGN_VERIFY", "GENERATE_VERIFY_MAC", "KEY_AGREEMENT"}
)

// maxPolicyBytes is KMS's limit on a key policy document.
const maxPolicyBytes = 32 * 1024

// DefaultPolicy is the key policy KMS gives a key created without one: the
// account may do everything with it, through IAM.
func (s *Store) DefaultPolicy() string {
	return fmt.Sprintf(`{"Version":"2012-10-17","Id":"key-default-1","Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%s:root"},"Action":"kms:*","Resource":"*"}]}`, s.account)
}

// CreateKey creates a customer managed key in region. A policy that is not
// a policy document the local cloud can judge, or that fails the lockout
// safety check, is refused with MalformedPolicyDocumentException; a bad key
// spec, usage or pending window with ValidationException.
func (s *Store) CreateKey(region string, in KeyInput) (Key, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := &Key{Region: region, Description: in.Description, Enabled: !in.Disabled, KeySpec: in.KeySpec, KeyUsage: in.KeyUsage,
		RotationEnabled: in.EnableKeyRotation, PendingWindowInDays: in.PendingWindowInDays, MultiRegion: in.MultiRegion, Tags: map[string]string{}}
	if k.KeySpec == "" {
		k.KeySpec = "SYMMETRIC_DEFAULT"
	}
	if k.KeyUsage == "" {
		k.KeyUsage = "ENCRYPT_DECRYPT"
	}
	if k.PendingWindowInDays == 0 {
		k.PendingWindowInDays = 30
	}
	switch {
	case !slices.Contains(keySpecs, k.KeySpec):
		return Key{}, s.newError("ValidationException", "1 validation error detected: Value '%s' at 'keySpec' failed to satisfy constraint: Member must satisfy enum value set: [%s]", k.KeySpec, strings.Join(keySpecs, ", "))
	case !slices.Contains(keyUsages, k.KeyUsage):
		return Key{}, s.newError("ValidationException", "1 validation error detected: Value '%s' at 'keyUsage' failed to satisfy constraint: Member must satisfy enum value set: [%s]", k.KeyUsage, strings.Join(keyUsages, ", "))
	case k.PendingWindowInDays < 7 || k.PendingWindowInDays > 30:
		return Key{}, s.newError("ValidationException", "PendingWindowInDays must be between 7 and 30, got %d.", k.PendingWindowInDays)
	}
	for t, v := range in.Tags {
		k.Tags[t] = v
	}
	k.ID = s.uuid()
	k.ARN = fmt.Sprintf("arn:aws:kms:%s:%s:key/%s", region, s.account, k.ID)
	k.Policy = in.Policy
	if k.Policy == "" {
		k.Policy = s.DefaultPolicy()
	}
	pol, err := s.parsePolicy(k.ID, k.Policy)
	if err != nil {
		return Key{}, err
	}
	k.policy = pol
	if !in.BypassPolicyLockoutSafetyCheck {
		res := iam.EvaluateResource(pol, iam.Caller{Account: s.account}, iam.Request{Action: "kms:PutKeyPolicy", Resource: k.ARN})
		if res.Decision != iam.Allowed {
			return Key{}, s.newError("MalformedPolicyDocumentException", "The new key policy will not allow you to update the key policy in the future.")
		}
	}
	s.keys[k.ARN] = k
	return k.copy(), nil
}

// parsePolicy reads a key policy document; mu is held.
func (s *Store) parsePolicy(keyID, text string) (*iam.Policy, error) {
	if len(text) > maxPolicyBytes {
		return nil, s.newError("MalformedPolicyDocumentException", "The key policy is %d bytes; the limit is %d.", len(text), maxPolicyBytes)
	}
	var doc any
	if err := json.Unmarshal([]byte(text), &doc); err != nil {
		return nil, s.newError("MalformedPolicyDocumentException", "The key policy is not valid JSON: %v", err)
	}
	pol, err := iam.ParseResourcePolicy("key policy of "+keyID, doc)
	if err != nil {
		return nil, s.newError("MalformedPolicyDocumentException", "%v", err)
	}
	return pol, nil
}

// aliasPattern is the form KMS requires of an alias name.
var aliasPattern = regexp.MustCompile(`^alias/[a-zA-Z0-9/_-]{1,250}$`)

// CreateAlias makes alias (alias/NAME) name targetKeyID (a key id or key
// ARN) in region and returns the alias ARN. Names beginning alias/aws/ are
// reserved for AWS managed keys (NotAuthorizedException); an alias that
// exists gives AlreadyExistsException, a missing key NotFoundException.
func (s *Store) CreateAlias(region, alias, targetKeyID string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !aliasPattern.MatchString(alias) {
		return "", s.newError("ValidationException", "Alias must start with the prefix \"alias/\" and contain only letters, digits, '/', '_' and '-': %s", alias)
	}
	if strings.HasPrefix(alias, "alias/aws/") {
		return "", s.newError("NotAuthorizedException", "Cannot create alias with prefix 'alias/aws/'")
	}
	arn := s.aliasARN(region, alias)
	if _, ok := s.aliases[arn]; ok {
		return "", s.newError("AlreadyExistsException", "An alias with the name %s already exists", arn)
	}
	k, err := s.keyLocked(region, targetKeyID)
	if err != nil {
		return "", err
	}
	if k.Managed {
		return "", s.newError("NotAuthorizedException", "Cannot point an alias at an AWS managed key")
	}
	s.aliases[arn] = k.ARN
	return arn, nil
}

func (s *Store) aliasARN(region, alias string) string {
	return fmt.Sprintf("arn:aws:kms:%s:%s:%s", region, s.account, alias)
}

// Resolve finds the key a service is given as keyID in region: a key id, a
// key ARN, an alias name or an alias ARN. An unknown key or alias gives
// NotFoundException with KMS's message ("Key 'ARN' does not exist", "Alias
// ARN is not found."). Whether the key is enabled is the caller's to check
// (Usable).
func (s *Store) Resolve(region, keyID string) (Key, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, err := s.keyLocked(region, keyID)
	if err != nil {
		return Key{}, err
	}
	return k.copy(), nil
}

// keyLocked resolves keyID; mu is held.
func (s *Store) keyLocked(region, keyID string) (*Key, error) {
	if strings.HasPrefix(keyID, "arn:") {
		parts := strings.SplitN(keyID, ":", 6)
		if len(parts) != 6 || parts[2] != "kms" {
			return nil, s.newError("NotFoundException", "Invalid arn %s", keyID)
		}
		region = parts[3]
		if strings.HasPrefix(parts[5], "alias/") {
			return s.aliasLocked(region, parts[5], keyID)
		}
		if k, ok := s.keys[keyID]; ok {
			return k, nil
		}
		return nil, s.newError("NotFoundException", "Key '%s' does not exist", keyID)
	}
	if strings.HasPrefix(keyID, "alias/") {
		return s.aliasLocked(region, keyID, s.aliasARN(region, keyID))
	}
	arn := fmt.Sprintf("arn:aws:kms:%s:%s:key/%s", region, s.account, keyID)
	if k, ok := s.keys[arn]; ok {
		return k, nil
	}
	if !uuidPattern.MatchString(keyID) {
		return nil, s.newError("NotFoundException", "Invalid keyId '%s'", keyID)
	}
	return nil, s.newError("NotFoundException", "Key '%s' does not exist", arn)
}

var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// aliasLocked resolves an alias name in region, making the AWS managed
// key of SNS on first use; mu is held.
func (s *Store) aliasLocked(region, alias, arn string) (*Key, error) {
	if alias == ManagedSNSAlias {
		return s.managedSNSKey(region), nil
	}
	if target, ok := s.aliases[s.aliasARN(region, alias)]; ok {
		return s.keys[target], nil
	}
	return nil, s.newError("NotFoundException", "Alias %s is not found.", arn)
}

// managedSNSKey returns region's AWS managed key for SNS, creating it with
// the key policy AWS gives it; mu is held.
func (s *Store) managedSNSKey(region string) *Key {
	for _, k := range s.keys {
		if k.Managed && k.Region == region {
			return k
		}
	}
	k := &Key{Region: region, Managed: true, Enabled: true, KeySpec: "SYMMETRIC_DEFAULT", KeyUsage: "ENCRYPT_DECRYPT",
		RotationEnabled: true, PendingWindowInDays: 30, Description: "Default key that protects my SNS data when no other key is defined", Tags: map[string]string{}}
	// The id comes from the seed and the region, not the order of use, so
	// that the key is the same however a run's publishes interleave.
	sum := sha256.Sum256(fmt.Appendf(nil, "%d/%s/%s", s.seed, region, ManagedSNSAlias))
	k.ID = uuidFrom(binary.BigEndian.Uint64(sum[:8]), binary.BigEndian.Uint64(sum[8:16]))
	k.ARN = fmt.Sprintf("arn:aws:kms:%s:%s:key/%s", region, s.account, k.ID)
	k.Policy = fmt.Sprintf(`{"Version":"2012-10-17","Id":"auto-sns-1","Statement":[`+
		`{"Sid":"Allow access through SNS for all principals in the account that are authorized to use SNS","Effect":"Allow","Principal":{"AWS":"*"},"Action":["kms:Decrypt","kms:GenerateDataKey*","kms:CreateGrant","kms:ListGrants","kms:DescribeKey"],"Resource":"*","Condition":{"StringEquals":{"kms:CallerAccount":"%[1]s","kms:ViaService":"sns.%[2]s.amazonaws.com"}}},`+
		`{"Sid":"Allow direct access to key metadata to the account","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%[1]s:root"},"Action":["kms:Describe*","kms:Get*","kms:List*","kms:RevokeGrant"],"Resource":"*"}]}`, s.account, region)
	pol, err := s.parsePolicy(k.ID, k.Policy)
	if err != nil {
		panic(fmt.Sprintf("keys: the AWS managed SNS key policy does not parse: %v", err))
	}
	k.policy = pol
	s.keys[k.ARN] = k
	return k
}

// SetEnabled enables or disables a customer managed key, as KMS's
// EnableKey and DisableKey do, so that a test can see what a service does
// with a disabled key.
func (s *Store) SetEnabled(region, keyID string, enabled bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, err := s.keyLocked(region, keyID)
	if err != nil {
		return err
	}
	if k.Managed {
		return s.newError("NotAuthorizedException", "An AWS managed key cannot be disabled")
	}
	k.Enabled = enabled
	return nil
}

// Keys lists the keys of a region, customer managed and AWS managed, by
// ARN.
func (s *Store) Keys(region string) []Key {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Key
	for _, k := range s.keys {
		if k.Region == region {
			out = append(out, k.copy())
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ARN < out[j].ARN })
	return out
}

func (k *Key) copy() Key {
	c := *k
	c.Tags = make(map[string]string, len(k.Tags))
	for t, v := range k.Tags {
		c.Tags[t] = v
	}
	return c
}

// Usable reports whether a service may use the key at all: a disabled key
// gives DisabledException ("ARN is disabled."), as KMS answers any
// cryptographic operation with it.
func (s *Store) Usable(k Key) error {
	if k.Enabled {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.newError("DisabledException", "%s is disabled.", k.ARN)
}

// Caller is who uses a key through a service.
type Caller struct {
	iam.Caller
	// Identity holds the caller's identity-based policies; a key policy
	// that delegates to the account needs one of them to allow the action
	// too. Ignored for a service principal.
	Identity []*iam.Policy
	// Context holds the request's condition keys, such as kms:ViaService
	// and aws:SourceArn.
	Context map[string][]string
}

// Authorize decides whether caller may perform action (kms:GenerateDataKey,
// kms:Decrypt) with key, as KMS decides: an explicit Deny in the key policy
// or, for a role, in its identity-based policies refuses; otherwise the key
// policy must allow the caller directly, or allow its account and the
// caller's identity-based policies allow too. A refusal is an *Error
// AccessDeniedException whose Denied (an *iam.AccessDenied with AWS's
// wording, ResourcePolicy set when the key policy is what refused) says
// why.
func (s *Store) Authorize(k Key, c Caller, action string) error {
	req := iam.Request{Action: action, Resource: k.ARN, Context: c.Context}
	principal := c.ARN()
	if c.RoleARN == "" {
		principal = c.Service
	}
	deny := func(res iam.Result, resourcePolicy bool) error {
		d := &iam.AccessDenied{Principal: principal, Request: req, Result: res, ResourcePolicy: resourcePolicy}
		s.mu.Lock()
		defer s.mu.Unlock()
		e := s.newError("AccessDeniedException", "%s", d.Error())
		e.Denied = d
		return e
	}
	byKey := iam.EvaluateResource(k.policy, c.Caller, req)
	if byKey.Decision == iam.ExplicitDeny {
		return deny(byKey.Result, true)
	}
	var byIdentity iam.Result
	if c.RoleARN != "" {
		byIdentity = iam.Evaluate(c.Identity, req)
		if byIdentity.Decision == iam.ExplicitDeny {
			return deny(byIdentity, false)
		}
	}
	switch {
	case byKey.Decision != iam.Allowed:
		return deny(byKey.Result, true)
	case byKey.ViaAccount && byIdentity.Decision != iam.Allowed:
		return deny(byIdentity, false)
	}
	return nil
}
