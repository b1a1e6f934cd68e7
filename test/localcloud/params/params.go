// Package params is the local cloud's AWS Systems Manager Parameter Store:
// String, StringList and SecureString parameters in the standard tier, with
// versions, labels, hierarchies and the "Parameter Store Change" events
// that EventBridge rules react to.
//
// What is modelled: PutParameter (Overwrite rules, versions, Tags,
// Description, AllowedPattern, data types text and aws:ec2:image),
// GetParameter (name, name:version and name:label selectors, or the
// parameter's ARN), GetParameters, GetParametersByPath (Recursive),
// GetParameterHistory, LabelParameterVersion, DeleteParameter and
// DescribeParameters (the legacy Name and Type filters and the Name, Type,
// DataType and Path parameter filters).
//
// aws:ec2:image parameters are validated against the EC2 model, as AWS
// documents, after PutParameter has answered: PutParameter always succeeds
// and returns the version the write would get. When the value names an
// available AMI of the region the write is applied at once. Otherwise the
// parameter is not created or updated and, once the clock next runs, a
// "Parameter Store Change" event reports the failure with the exception
// "Unable to Describe Resource".
//
// Not modelled: the Advanced tier (refused), parameter policies (refused),
// KMS (SecureString values are stored as given and GetParameter without
// WithDecryption returns an opaque stand-in for the ciphertext), the
// tagging operations, shared parameters and DeleteParameters.
package params

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/clock"
)

// Limits Parameter Store documents for the standard tier.
const (
	maxValueLength       = 4096
	maxDescriptionLength = 1024
	maxARNLength         = 1011
	maxHierarchyLevels   = 15
	maxVersions          = 100
	maxLabelsPerVersion  = 10
	maxLabelLength       = 100
	maxGetParameters     = 10
	maxTags              = 50
	defaultKeyID         = "alias/aws/ssm"
	dataTypeText         = "text"
	dataTypeImage        = "aws:ec2:image"
)

// EventSink receives service events; *sim.World satisfies it.
type EventSink interface {
	Emit(region, source, detailType string, resources []string, detail any)
}

// Images looks up AMIs; *sim.EC2 (World.EC2()) satisfies it.
type Images interface {
	DescribeImages(ctx context.Context, in *ec2.DescribeImagesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeImagesOutput, error)
}

// Options configures a ParameterStore.
type Options struct {
	// Clock stamps changes and runs asynchronous validation. Required.
	Clock *clock.Sim
	// Events receives "Parameter Store Change" events; none if nil.
	Events EventSink
	// Images validates aws:ec2:image values; without it every such value
	// fails validation.
	Images Images
	// Account is the account id in parameter ARNs ("123456789012" if empty).
	Account string
}

// ParameterStore is the simulated Parameter Store. Its exported methods
// with SDK signatures are the service's operations.
type ParameterStore struct {
	clk     *clock.Sim
	events  EventSink
	images  Images
	account string

	// opMu serialises changes together with their events; mu guards the
	// state and is never held while calling out.
	opMu    sync.Mutex
	mu      sync.Mutex
	regions map[string]map[string]*parameter
}

// parameter is one parameter and its versions, oldest first.
type parameter struct {
	name     string
	versions []*version
	tags     []types.Tag
}

// version is one version of a parameter.
type version struct {
	number         int64
	typ            types.ParameterType
	value          string
	description    string
	allowedPattern string
	keyID          string
	dataType       string
	labels         []string
	modified       time.Time
}

// New returns an empty ParameterStore.
func New(opts Options) *ParameterStore {
	if opts.Clock == nil {
		panic("params.New: Options.Clock is required")
	}
	acct := opts.Account
	if acct == "" {
		acct = "123456789012"
	}
	return &ParameterStore{clk: opts.Clock, events: opts.Events, images: opts.Images, account: acct, regions: map[string]map[string]*parameter{}}
}

// latest returns the parameter's newest version.
func (p *parameter) latest() *version { return p.versions[len(p.versions)-1] }

// region returns a region's parameters; mu is held.
func (s *ParameterStore) region(name string) map[string]*parameter {
	r, ok := s.regions[name]
	if !ok {
		r = map[string]*parameter{}
		s.regions[name] = r
	}
	return r
}

// arn returns a parameter's ARN: names of a hierarchy keep their leading
// slash after "parameter", others get one.
func (s *ParameterStore) arn(region, name string) string {
	return fmt.Sprintf("arn:aws:ssm:%s:%s:parameter/%s", region, s.account, strings.TrimPrefix(name, "/"))
}

// lastModifiedUser is the principal the local cloud reports as the author
// of every change.
func (s *ParameterStore) lastModifiedUser() string {
	return fmt.Sprintf("arn:aws:iam::%s:user/phoenix-local", s.account)
}

func validation(format string, args ...any) *api.Error {
	return api.Errorf(http.StatusBadRequest, "ValidationException", format, args...)
}

func ssmErr(code, format string, args ...any) *api.Error {
	return api.Errorf(http.StatusBadRequest, code, format, args...)
}

func notFound(name string) *api.Error {
	return ssmErr("ParameterNotFound", "Parameter %s not found.", name)
}

var (
	namePattern  = regexp.MustCompile(`^[a-zA-Z0-9_.\-/]+$`)
	labelPattern = regexp.MustCompile(`^[a-zA-Z0-9_.\-]+$`)
)

// checkName applies Parameter Store's naming rules.
func (s *ParameterStore) checkName(region, name string) error {
	if name == "" {
		return validation("1 validation error detected: Value at 'name' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	if !namePattern.MatchString(name) {
		return validation("Parameter name: can't be prefixed with \"aws\" or \"ssm\" (case-insensitive). If formed as a path, it can consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers and the following 3 symbols .-_")
	}
	lower := strings.ToLower(strings.TrimPrefix(name, "/"))
	if strings.HasPrefix(lower, "aws") || strings.HasPrefix(lower, "ssm") {
		return validation("Parameter name: can't be prefixed with \"aws\" or \"ssm\" (case-insensitive).")
	}
	if strings.Contains(name, "/") {
		if !strings.HasPrefix(name, "/") || strings.HasSuffix(name, "/") || strings.Contains(name, "//") {
			return validation("Invalid parameter name. Please ensure that the parameter name is fully qualified: a hierarchy begins with a forward slash (/) and has no empty level.")
		}
		if strings.Count(name, "/") > maxHierarchyLevels {
			return ssmErr("HierarchyLevelLimitExceededException", "A hierarchy can have a maximum of %d levels.", maxHierarchyLevels)
		}
	}
	if len(s.arn(region, name)) > maxARNLength {
		return validation("Parameter name is too long: the full parameter ARN can have at most %d characters.", maxARNLength)
	}
	return nil
}

// PutParameter creates a parameter or, with Overwrite, adds a version.
// It returns ParameterAlreadyExists for an existing name without
// Overwrite, ValidationException for a bad name, type, value, tier, data
// type or for Tags combined with Overwrite, ParameterPatternMismatchException
// when AllowedPattern rejects the value and ParameterMaxVersionLimitExceeded
// when the oldest of 100 versions has a label. aws:ec2:image values are
// validated after the call returns (see the package comment).
func (s *ParameterStore) PutParameter(ctx context.Context, in *ssm.PutParameterInput, _ ...func(*ssm.Options)) (*ssm.PutParameterOutput, error) {
	// Not api.Begin: takes two mutexes (opMu, then mu), releases mu before the AMI lookup and sends events.
	if in == nil {
		in = &ssm.PutParameterInput{}
	}
	region := api.Region(ctx)
	name := aws.ToString(in.Name)
	if err := s.checkName(region, name); err != nil {
		return nil, err
	}
	if in.Value == nil {
		return nil, validation("1 validation error detected: Value at 'value' failed to satisfy constraint: Member must not be null")
	}
	if len(*in.Value) > maxValueLength {
		return nil, validation("Standard tier parameters support a maximum parameter value of %d characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier.", maxValueLength)
	}
	if *in.Value == "" {
		return nil, validation("1 validation error detected: Value at 'value' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	switch in.Tier {
	case "", types.ParameterTierStandard, types.ParameterTierIntelligentTiering:
	case types.ParameterTierAdvanced:
		return nil, validation("The local cloud models the Standard tier only; Advanced parameters are not supported.")
	default:
		return nil, validation("1 validation error detected: Value '%s' at 'tier' failed to satisfy constraint: Member must satisfy enum value set: [Standard, Advanced, Intelligent-Tiering]", in.Tier)
	}
	if aws.ToString(in.Policies) != "" {
		return nil, validation("The local cloud does not model parameter policies, which need the Advanced tier.")
	}
	if len(aws.ToString(in.Description)) > maxDescriptionLength {
		return nil, validation("1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length less than or equal to %d", maxDescriptionLength)
	}
	overwrite := aws.ToBool(in.Overwrite)
	if overwrite && len(in.Tags) > 0 {
		return nil, validation("Invalid request: tags and overwrite can't be used together. To create a parameter with tags, please remove overwrite flag. To update tags for an existing parameter, please use AddTagsToResource or RemoveTagsFromResource.")
	}
	if len(in.Tags) > maxTags {
		return nil, ssmErr("TooManyTagsError", "The Tags parameter has more than %d tags.", maxTags)
	}
	switch in.Type {
	case "", types.ParameterTypeString, types.ParameterTypeStringList, types.ParameterTypeSecureString:
	default:
		return nil, validation("1 validation error detected: Value '%s' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [SecureString, StringList, String]", in.Type)
	}
	dataType := aws.ToString(in.DataType)
	switch dataType {
	case "", dataTypeText, dataTypeImage:
	default:
		return nil, validation("The following data type is not supported: %s (supported data types are text and aws:ec2:image).", dataType)
	}
	if pat := aws.ToString(in.AllowedPattern); pat != "" {
		re, err := regexp.Compile(pat)
		if err != nil {
			return nil, ssmErr("InvalidAllowedPatternException", "The request does not meet the regular expression requirement: %v", err)
		}
		if !re.MatchString(*in.Value) {
			return nil, ssmErr("ParameterPatternMismatchException", "Parameter value, %s, failed to satisfy constraint specified in the allowed pattern (%s).", *in.Value, pat)
		}
	}

	// Decide the new version from the current state; the lock is released
	// before the AMI lookup, which calls into the World.
	s.opMu.Lock()
	defer s.opMu.Unlock()
	s.mu.Lock()
	existing := s.region(region)[name]
	v := &version{
		typ:            in.Type,
		value:          *in.Value,
		description:    aws.ToString(in.Description),
		allowedPattern: aws.ToString(in.AllowedPattern),
		keyID:          aws.ToString(in.KeyId),
		dataType:       dataType,
	}
	var number int64 = 1
	if existing != nil {
		if !overwrite {
			s.mu.Unlock()
			return nil, ssmErr("ParameterAlreadyExists", "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.")
		}
		cur := existing.latest()
		if v.typ == "" {
			v.typ = cur.typ
		}
		if v.dataType == "" {
			v.dataType = cur.dataType
		}
		if (v.dataType == dataTypeImage) != (cur.dataType == dataTypeImage) {
			s.mu.Unlock()
			return nil, validation("You can't change a parameter to or from the aws:ec2:image data type.")
		}
		if in.Description == nil {
			v.description = cur.description
		}
		if v.typ == types.ParameterTypeSecureString && v.keyID == "" && cur.typ == types.ParameterTypeSecureString {
			v.keyID = cur.keyID
		}
		number = cur.number + 1
		if len(existing.versions) >= maxVersions && len(existing.versions[0].labels) > 0 {
			s.mu.Unlock()
			return nil, ssmErr("ParameterMaxVersionLimitExceeded", "You attempted to create a new version of %s by calling the PutParameter API with the overwrite flag. Version %d, the oldest version, can't be deleted because it has a label associated with it. Move the label to another version of the parameter, and try again.", name, existing.versions[0].number)
		}
	}
	s.mu.Unlock()
	if v.typ == "" {
		return nil, validation("A parameter type is required when you create a parameter.")
	}
	if v.dataType == "" {
		v.dataType = dataTypeText
	}
	if v.dataType == dataTypeImage && v.typ != types.ParameterTypeString {
		return nil, validation("The aws:ec2:image data type is supported for String parameters only.")
	}
	if v.typ == types.ParameterTypeSecureString && v.keyID == "" {
		v.keyID = defaultKeyID
	}
	if v.typ != types.ParameterTypeSecureString {
		v.keyID = ""
	}
	if v.dataType == dataTypeImage && !s.imageAvailable(ctx, v.value) {
		s.failLater(region, name, v, existing == nil)
		return &ssm.PutParameterOutput{Version: number, Tier: types.ParameterTierStandard}, nil
	}

	s.mu.Lock()
	r := s.region(region)
	p := r[name]
	operation := "Update"
	if p == nil {
		operation = "Create"
		p = &parameter{name: name, tags: append([]types.Tag(nil), in.Tags...)}
		r[name] = p
	}
	v.number = number
	v.modified = s.clk.Now()
	p.versions = append(p.versions, v)
	if len(p.versions) > maxVersions {
		p.versions = p.versions[1:]
	}
	s.mu.Unlock()
	s.emit(region, name, operation, v, "")
	return &ssm.PutParameterOutput{Version: number, Tier: types.ParameterTierStandard}, nil
}

// amiPattern is the format of an AMI id.
var amiPattern = regexp.MustCompile(`^ami-([0-9a-f]{8}|[0-9a-f]{17})$`)

// imageAvailable reports whether value is an available AMI the account
// can see in the request's region. No lock may be held.
func (s *ParameterStore) imageAvailable(ctx context.Context, value string) bool {
	if !amiPattern.MatchString(value) || s.images == nil {
		return false
	}
	out, err := s.images.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{value}})
	if err != nil || len(out.Images) != 1 {
		return false
	}
	return out.Images[0].State == "available"
}

// failLater reports an aws:ec2:image validation failure once the clock
// next runs: the write is dropped and the event says why.
func (s *ParameterStore) failLater(region, name string, v *version, create bool) {
	operation := "Update"
	if create {
		operation = "Create"
	}
	s.clk.At(s.clk.Now(), "ssm validate "+name, func() {
		s.opMu.Lock()
		defer s.opMu.Unlock()
		s.emit(region, name, operation, v, "Unable to Describe Resource")
	})
}

// ChangeEvent is the detail of a "Parameter Store Change" event, in the
// shape the Systems Manager user guide shows. Exception is set only when an
// aws:ec2:image value failed validation.
type ChangeEvent struct {
	Exception   string `json:"exception,omitempty"`
	Operation   string `json:"operation"`
	Name        string `json:"name"`
	Type        string `json:"type"`
	DataType    string `json:"dataType"`
	Description string `json:"description,omitempty"`
}

// emit sends a "Parameter Store Change" event; opMu is held, mu is not.
func (s *ParameterStore) emit(region, name, operation string, v *version, exception string) {
	if s.events == nil {
		return
	}
	s.events.Emit(region, "aws.ssm", "Parameter Store Change", []string{s.arn(region, name)}, ChangeEvent{
		Exception: exception, Operation: operation, Name: name, Type: string(v.typ), DataType: v.dataType, Description: v.description,
	})
}

// selector is a parsed GetParameter name: the parameter name and an
// optional version number or label.
type selector struct {
	name    string
	raw     string
	version int64
	label   string
}

// parseSelector splits "name", "name:3" or "name:label"; an ARN is reduced
// to the name it designates.
func parseSelector(in string) selector {
	if strings.HasPrefix(in, "arn:") {
		if i := strings.Index(in, ":parameter/"); i >= 0 {
			rest := in[i+len(":parameter/"):]
			if strings.Contains(rest, "/") {
				rest = "/" + rest
			}
			in = rest
		}
	}
	sel := selector{name: in}
	if i := strings.LastIndex(in, ":"); i >= 0 {
		sel.name, sel.raw = in[:i], in[i:]
		if n, err := strconv.ParseInt(in[i+1:], 10, 64); err == nil {
			sel.version = n
		} else {
			sel.label = in[i+1:]
		}
	}
	return sel
}

// resolve finds the version a selector designates; mu is held.
func (s *ParameterStore) resolve(region string, sel selector) (*parameter, *version, error) {
	p, ok := s.region(region)[sel.name]
	if !ok {
		return nil, nil, notFound(sel.name + sel.raw)
	}
	switch {
	case sel.raw == "":
		return p, p.latest(), nil
	case sel.label != "":
		for _, v := range p.versions {
			for _, l := range v.labels {
				if l == sel.label {
					return p, v, nil
				}
			}
		}
		return nil, nil, ssmErr("ParameterVersionNotFound", "Systems Manager could not find the label %s for %s. Verify the label and try again.", sel.label, sel.name)
	default:
		for _, v := range p.versions {
			if v.number == sel.version {
				return p, v, nil
			}
		}
		return nil, nil, ssmErr("ParameterVersionNotFound", "Systems Manager could not find version %d of %s. Verify the version and try again.", sel.version, sel.name)
	}
}

// shownValue returns the value a read returns: SecureString values only
// with decryption, otherwise an opaque stand-in for the ciphertext.
func shownValue(v *version, decrypt bool) string {
	if v.typ != types.ParameterTypeSecureString || decrypt {
		return v.value
	}
	sum := sha256.Sum256([]byte(v.keyID + "\x00" + v.value + "\x00" + strconv.FormatInt(v.number, 10)))
	return "AQICAH" + base64.StdEncoding.EncodeToString(sum[:])
}

// render returns a version as GetParameter returns it.
func (s *ParameterStore) render(region string, p *parameter, v *version, sel string, decrypt bool) types.Parameter {
	out := types.Parameter{
		Name:             aws.String(p.name),
		Type:             v.typ,
		Value:            aws.String(shownValue(v, decrypt)),
		Version:          v.number,
		LastModifiedDate: aws.Time(v.modified),
		ARN:              aws.String(s.arn(region, p.name)),
		DataType:         aws.String(v.dataType),
	}
	if sel != "" {
		out.Selector = aws.String(sel)
	}
	return out
}

// GetParameter returns a parameter's latest version, or the version named
// by a ":version" or ":label" selector. It returns ParameterNotFound and
// ParameterVersionNotFound.
func (s *ParameterStore) GetParameter(ctx context.Context, in *ssm.GetParameterInput, _ ...func(*ssm.Options)) (*ssm.GetParameterOutput, error) {
	in, region, done := api.Begin(ctx, &s.mu, in)
	defer done()
	if aws.ToString(in.Name) == "" {
		return nil, validation("1 validation error detected: Value at 'name' failed to satisfy constraint: Member must not be null")
	}
	sel := parseSelector(*in.Name)
	p, v, err := s.resolve(region, sel)
	if err != nil {
		return nil, err
	}
	param := s.render(region, p, v, sel.raw, aws.ToBool(in.WithDecryption))
	return &ssm.GetParameterOutput{Parameter: &param}, nil
}

// GetParameters returns up to ten parameters; names that do not resolve are
// listed in InvalidParameters instead of failing the call.
func (s *ParameterStore) GetParameters(ctx context.Context, in *ssm.GetParametersInput, _ ...func(*ssm.Options)) (*ssm.GetParametersOutput, error) {
	in, region, done := api.Begin(ctx, &s.mu, in)
	defer done()
	if len(in.Names) == 0 {
		return nil, validation("1 validation error detected: Value null at 'names' failed to satisfy constraint: Member must not be null")
	}
	if len(in.Names) > maxGetParameters {
		return nil, validation("1 validation error detected: Value at 'names' failed to satisfy constraint: Member must have length less than or equal to %d", maxGetParameters)
	}
	out := &ssm.GetParametersOutput{Parameters: []types.Parameter{}, InvalidParameters: []string{}}
	seen := map[string]bool{}
	for _, n := range in.Names {
		if seen[n] {
			continue
		}
		seen[n] = true
		sel := parseSelector(n)
		p, v, err := s.resolve(region, sel)
		if err != nil {
			out.InvalidParameters = append(out.InvalidParameters, n)
			continue
		}
		out.Parameters = append(out.Parameters, s.render(region, p, v, sel.raw, aws.ToBool(in.WithDecryption)))
	}
	return out, nil
}

// sortedNames lists a region's parameter names; mu is held.
func sortedNames(r map[string]*parameter) []string {
	out := make([]string, 0, len(r))
	for n := range r {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// pageOf reads MaxResults (default and maximum max) and an offset token.
func pageOf(maxResults *int32, token *string, maxN int) (limit, offset int, err error) {
	limit = maxN
	if maxResults != nil {
		if *maxResults < 1 || int(*maxResults) > maxN {
			return 0, 0, validation("1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to %d", *maxResults, maxN)
		}
		limit = int(*maxResults)
	}
	if tok := aws.ToString(token); tok != "" {
		n, convErr := strconv.Atoi(strings.TrimPrefix(tok, "p-"))
		if convErr != nil || n < 0 || !strings.HasPrefix(tok, "p-") {
			return 0, 0, ssmErr("InvalidNextToken", "The specified token is not valid.")
		}
		offset = n
	}
	return limit, offset, nil
}

// window applies offset and limit to n items and returns the bounds and
// the next token.
func window(n, offset, limit int) (lo, hi int, next *string) {
	lo = min(offset, n)
	hi = min(lo+limit, n)
	if hi < n {
		next = aws.String("p-" + strconv.Itoa(hi))
	}
	return lo, hi, next
}

// inPath reports whether name lies under path: directly, or at any depth
// when recursive.
func inPath(name, path string, recursive bool) bool {
	prefix := strings.TrimSuffix(path, "/") + "/"
	if !strings.HasPrefix(name, prefix) {
		return false
	}
	return recursive || !strings.Contains(name[len(prefix):], "/")
}

// GetParametersByPath returns the parameters under a hierarchy path: the
// path's direct children, or all descendants with Recursive, up to
// MaxResults (1 to 10, default 10) per page.
func (s *ParameterStore) GetParametersByPath(ctx context.Context, in *ssm.GetParametersByPathInput, _ ...func(*ssm.Options)) (*ssm.GetParametersByPathOutput, error) {
	in, region, done := api.Begin(ctx, &s.mu, in)
	defer done()
	if in.Path == nil {
		return nil, validation("1 validation error detected: Value null at 'path' failed to satisfy constraint: Member must not be null")
	}
	path := *in.Path
	if !strings.HasPrefix(path, "/") || strings.Contains(path, "//") || !namePattern.MatchString(path) {
		return nil, validation("The parameter doesn't meet the parameter name requirements. The parameter name must begin with a forward slash \"/\".")
	}
	if strings.Count(strings.TrimSuffix(path, "/"), "/") > maxHierarchyLevels {
		return nil, ssmErr("HierarchyLevelLimitExceededException", "A hierarchy can have a maximum of %d levels.", maxHierarchyLevels)
	}
	if len(in.ParameterFilters) > 0 {
		return nil, ssmErr("InvalidFilterKey", "The local cloud does not model ParameterFilters on GetParametersByPath.")
	}
	limit, offset, err := pageOf(in.MaxResults, in.NextToken, maxGetParameters)
	if err != nil {
		return nil, err
	}
	r := s.region(region)
	var names []string
	for _, n := range sortedNames(r) {
		if inPath(n, path, aws.ToBool(in.Recursive)) {
			names = append(names, n)
		}
	}
	lo, hi, next := window(len(names), offset, limit)
	out := &ssm.GetParametersByPathOutput{Parameters: []types.Parameter{}, NextToken: next}
	for _, n := range names[lo:hi] {
		p := r[n]
		out.Parameters = append(out.Parameters, s.render(region, p, p.latest(), "", aws.ToBool(in.WithDecryption)))
	}
	return out, nil
}

// GetParameterHistory returns every kept version of a parameter, oldest
// first, with its labels, up to MaxResults (1 to 50, default 50) per page.
func (s *ParameterStore) GetParameterHistory(ctx context.Context, in *ssm.GetParameterHistoryInput, _ ...func(*ssm.Options)) (*ssm.GetParameterHistoryOutput, error) {
	in, region, done := api.Begin(ctx, &s.mu, in)
	defer done()
	if aws.ToString(in.Name) == "" {
		return nil, validation("1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null")
	}
	limit, offset, err := pageOf(in.MaxResults, in.NextToken, 50)
	if err != nil {
		return nil, err
	}
	sel := parseSelector(*in.Name)
	p, ok := s.region(region)[sel.name]
	if !ok || sel.raw != "" {
		return nil, notFound(*in.Name)
	}
	lo, hi, next := window(len(p.versions), offset, limit)
	out := &ssm.GetParameterHistoryOutput{Parameters: []types.ParameterHistory{}, NextToken: next}
	for _, v := range p.versions[lo:hi] {
		h := types.ParameterHistory{
			Name:             aws.String(p.name),
			Type:             v.typ,
			Value:            aws.String(shownValue(v, aws.ToBool(in.WithDecryption))),
			Version:          v.number,
			Labels:           append([]string{}, v.labels...),
			LastModifiedDate: aws.Time(v.modified),
			LastModifiedUser: aws.String(s.lastModifiedUser()),
			Tier:             types.ParameterTierStandard,
			DataType:         aws.String(v.dataType),
			Policies:         []types.ParameterInlinePolicy{},
		}
		if v.description != "" {
			h.Description = aws.String(v.description)
		}
		if v.allowedPattern != "" {
			h.AllowedPattern = aws.String(v.allowedPattern)
		}
		if v.keyID != "" {
			h.KeyId = aws.String(v.keyID)
		}
		out.Parameters = append(out.Parameters, h)
	}
	return out, nil
}

// validLabel applies the documented label rules: at most 100 characters of
// letters, digits, periods, hyphens and underscores, not beginning with a
// digit, "aws" or "ssm".
func validLabel(l string) bool {
	if l == "" || len(l) > maxLabelLength || !labelPattern.MatchString(l) {
		return false
	}
	if l[0] >= '0' && l[0] <= '9' {
		return false
	}
	lower := strings.ToLower(l)
	return !strings.HasPrefix(lower, "aws") && !strings.HasPrefix(lower, "ssm")
}

// LabelParameterVersion attaches labels to a version (the latest if
// ParameterVersion is not given), moving a label that another version
// carries. Labels that break the label rules are returned in InvalidLabels
// and not attached. A version carries at most ten labels
// (ParameterVersionLabelLimitExceeded).
func (s *ParameterStore) LabelParameterVersion(ctx context.Context, in *ssm.LabelParameterVersionInput, _ ...func(*ssm.Options)) (*ssm.LabelParameterVersionOutput, error) {
	// Not api.Begin: takes two mutexes (opMu, then mu) and releases mu before sending the event.
	if in == nil || aws.ToString(in.Name) == "" {
		return nil, validation("1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null")
	}
	if len(in.Labels) == 0 || len(in.Labels) > maxLabelsPerVersion {
		return nil, validation("1 validation error detected: Value at 'labels' failed to satisfy constraint: Member must have length between 1 and %d", maxLabelsPerVersion)
	}
	region := api.Region(ctx)
	s.opMu.Lock()
	defer s.opMu.Unlock()
	s.mu.Lock()
	p, ok := s.region(region)[*in.Name]
	if !ok {
		s.mu.Unlock()
		return nil, notFound(*in.Name)
	}
	target := p.latest()
	if in.ParameterVersion != nil {
		target = nil
		for _, v := range p.versions {
			if v.number == *in.ParameterVersion {
				target = v
			}
		}
		if target == nil {
			s.mu.Unlock()
			return nil, ssmErr("ParameterVersionNotFound", "Systems Manager could not find version %d of %s. Verify the version and try again.", *in.ParameterVersion, *in.Name)
		}
	}
	var valid, invalid []string
	for _, l := range in.Labels {
		// The API constrains each label to 1-100 characters: a longer
		// one fails the request instead of landing in InvalidLabels.
		if l == "" || len(l) > maxLabelLength {
			s.mu.Unlock()
			return nil, validation("1 validation error detected: Value at 'labels' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to %d, Member must have length greater than or equal to 1]", maxLabelLength)
		}
		if validLabel(l) {
			valid = append(valid, l)
		} else {
			invalid = append(invalid, l)
		}
	}
	merged := append([]string(nil), target.labels...)
	for _, l := range valid {
		if !contains(merged, l) {
			merged = append(merged, l)
		}
	}
	if len(merged) > maxLabelsPerVersion {
		s.mu.Unlock()
		return nil, ssmErr("ParameterVersionLabelLimitExceeded", "A parameter version can have maximum %d labels. Move one or more labels to another version and try again.", maxLabelsPerVersion)
	}
	for _, v := range p.versions {
		if v == target {
			continue
		}
		kept := v.labels[:0:0]
		for _, l := range v.labels {
			if !contains(valid, l) {
				kept = append(kept, l)
			}
		}
		v.labels = kept
	}
	target.labels = merged
	latest := p.latest()
	s.mu.Unlock()
	if len(valid) > 0 {
		s.emit(region, p.name, "LabelParameterVersion", latest, "")
	}
	return &ssm.LabelParameterVersionOutput{ParameterVersion: target.number, InvalidLabels: append([]string{}, invalid...)}, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// DeleteParameter deletes a parameter and all its versions. It returns
// ParameterNotFound for an unknown name.
func (s *ParameterStore) DeleteParameter(ctx context.Context, in *ssm.DeleteParameterInput, _ ...func(*ssm.Options)) (*ssm.DeleteParameterOutput, error) {
	// Not api.Begin: takes two mutexes (opMu, then mu) and releases mu before sending the event.
	if in == nil || aws.ToString(in.Name) == "" {
		return nil, validation("1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null")
	}
	region := api.Region(ctx)
	s.opMu.Lock()
	defer s.opMu.Unlock()
	s.mu.Lock()
	r := s.region(region)
	p, ok := r[*in.Name]
	if !ok {
		s.mu.Unlock()
		return nil, notFound(*in.Name)
	}
	delete(r, *in.Name)
	latest := p.latest()
	s.mu.Unlock()
	s.emit(region, p.name, "Delete", latest, "")
	return &ssm.DeleteParameterOutput{}, nil
}

// DescribeParameters lists parameter metadata (never values), sorted by
// name, up to MaxResults (1 to 50, default 50) per page. It supports the
// legacy Filters Name (begins with) and Type, and the ParameterFilters
// Name (Equals, BeginsWith, Contains), Type, DataType (Equals) and Path
// (OneLevel, Recursive); other keys are refused with InvalidFilterKey.
func (s *ParameterStore) DescribeParameters(ctx context.Context, in *ssm.DescribeParametersInput, _ ...func(*ssm.Options)) (*ssm.DescribeParametersOutput, error) {
	in, region, done := api.Begin(ctx, &s.mu, in)
	defer done()
	if len(in.Filters) > 0 && len(in.ParameterFilters) > 0 {
		return nil, validation("You can use either Filters or ParameterFilters in a single request.")
	}
	var tests []func(name string, v *version) bool
	for _, f := range in.Filters {
		values := f.Values
		switch f.Key {
		case types.ParametersFilterKeyName:
			tests = append(tests, func(n string, _ *version) bool {
				return anyOf(values, func(x string) bool { return strings.HasPrefix(n, x) })
			})
		case types.ParametersFilterKeyType:
			tests = append(tests, func(_ string, v *version) bool { return contains(values, string(v.typ)) })
		default:
			return nil, ssmErr("InvalidFilterKey", "The filter key %s is not supported by the local cloud.", f.Key)
		}
	}
	for _, f := range in.ParameterFilters {
		t, err := stringFilter(f)
		if err != nil {
			return nil, err
		}
		tests = append(tests, t)
	}
	limit, offset, err := pageOf(in.MaxResults, in.NextToken, 50)
	if err != nil {
		return nil, err
	}
	r := s.region(region)
	var names []string
outer:
	for _, n := range sortedNames(r) {
		for _, t := range tests {
			if !t(n, r[n].latest()) {
				continue outer
			}
		}
		names = append(names, n)
	}
	lo, hi, next := window(len(names), offset, limit)
	out := &ssm.DescribeParametersOutput{Parameters: []types.ParameterMetadata{}, NextToken: next}
	for _, n := range names[lo:hi] {
		v := r[n].latest()
		m := types.ParameterMetadata{
			Name:             aws.String(n),
			ARN:              aws.String(s.arn(region, n)),
			Type:             v.typ,
			Version:          v.number,
			LastModifiedDate: aws.Time(v.modified),
			LastModifiedUser: aws.String(s.lastModifiedUser()),
			Tier:             types.ParameterTierStandard,
			DataType:         aws.String(v.dataType),
			Policies:         []types.ParameterInlinePolicy{},
		}
		if v.description != "" {
			m.Description = aws.String(v.description)
		}
		if v.allowedPattern != "" {
			m.AllowedPattern = aws.String(v.allowedPattern)
		}
		if v.keyID != "" {
			m.KeyId = aws.String(v.keyID)
		}
		out.Parameters = append(out.Parameters, m)
	}
	return out, nil
}

func anyOf(values []string, f func(string) bool) bool {
	for _, v := range values {
		if f(v) {
			return true
		}
	}
	return false
}

// stringFilter turns a ParameterStringFilter into a test.
func stringFilter(f types.ParameterStringFilter) (func(string, *version) bool, error) {
	key, opt, values := aws.ToString(f.Key), aws.ToString(f.Option), f.Values
	switch key {
	case "Name":
		switch opt {
		case "", "Equals":
			return func(n string, _ *version) bool { return contains(values, n) }, nil
		case "BeginsWith":
			return func(n string, _ *version) bool {
				return anyOf(values, func(x string) bool { return strings.HasPrefix(n, x) })
			}, nil
		case "Contains":
			return func(n string, _ *version) bool {
				return anyOf(values, func(x string) bool { return strings.Contains(n, x) })
			}, nil
		}
	case "Type":
		if opt == "" || opt == "Equals" {
			return func(_ string, v *version) bool { return contains(values, string(v.typ)) }, nil
		}
	case "DataType":
		if opt == "" || opt == "Equals" {
			return func(_ string, v *version) bool { return contains(values, v.dataType) }, nil
		}
	case "Path":
		if len(values) == 0 {
			return nil, ssmErr("InvalidFilterValue", "The Path filter needs at least one value.")
		}
		switch opt {
		case "", "OneLevel", "Recursive":
			rec := opt == "Recursive"
			return func(n string, _ *version) bool {
				return anyOf(values, func(p string) bool { return inPath(n, p, rec) })
			}, nil
		}
	default:
		return nil, ssmErr("InvalidFilterKey", "The filter key %s is not supported by the local cloud.", key)
	}
	return nil, ssmErr("InvalidFilterOption", "The filter option %s is not valid for key %s.", opt, key)
}
