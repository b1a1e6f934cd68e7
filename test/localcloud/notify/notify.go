// Package notify is the local cloud's Amazon SNS: topics, subscriptions and
// published messages. Nothing is delivered to endpoints; every published
// message is kept with its topic, time and attributes so that tests and the
// admin API can read what was sent (Messages).
//
// What is modelled: CreateTopic (idempotent by name; attributes checked;
// FIFO topics), ListTopics, GetTopicAttributes, DeleteTopic (deleting a
// missing topic succeeds, as AWS documents), Subscribe (every protocol is
// accepted and stored; endpoints are checked for their protocol's shape;
// http, https and email subscriptions stay pending confirmation, the others
// are confirmed at once), ListSubscriptionsByTopic and Publish (Subject,
// Message, MessageStructure json, MessageAttributes, FIFO group and
// deduplication ids).
//
// # Encrypted topics
//
// KmsMasterKeyId is accepted at CreateTopic whatever it names, as SNS
// accepts it: the key is not looked up until it is used. With a key store
// (Options.Keys, the cloud's keys.Store) Publish then resolves it (a key
// id, key ARN, alias name or alias ARN; alias/aws/sns is the AWS managed
// key) and refuses a message to a topic whose key does not exist
// (KMSNotFound) or is disabled (KMSDisabled), for every publisher, with
// KMS's message as SNS relays it. Whether the publisher may use the key
// (kms:GenerateDataKey and kms:Decrypt under the key policy and, when the
// policy delegates to IAM, the publisher's own policies) depends on who
// publishes, which this package does not know: the local cloud
// (test/localcloud/kms.go) checks it for deployed functions, state
// machines and CloudWatch alarm actions and answers KMSAccessDenied
// (KMSError). Without a key store KmsMasterKeyId is stored only. Messages
// are kept in clear either way.
package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/clock"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/keys"
)

// Limits SNS documents.
const (
	maxMessageBytes      = 256 * 1024
	maxSubjectLength     = 100
	maxMessageAttributes = 10
	pageSize             = 100
)

// Options configures an SNS.
type Options struct {
	// Clock stamps published messages. Required.
	Clock clock.Clock
	// Seed makes message and subscription ids repeatable.
	Seed uint64
	// Account is the topic owner ("123456789012" if empty).
	Account string
	// Keys resolves encrypted topics' KmsMasterKeyId at Publish; nil
	// stores KmsMasterKeyId without looking it up.
	Keys Keys
}

// Keys is the KMS that encrypted topics use; *keys.Store satisfies it.
type Keys interface {
	// Resolve finds a key from a key id, key ARN, alias name or alias
	// ARN; it returns a *keys.Error NotFoundException for none.
	Resolve(region, keyID string) (keys.Key, error)
	// Usable returns a *keys.Error DisabledException for a disabled key.
	Usable(k keys.Key) error
}

// SNS is the simulated SNS service. Its exported methods with SDK
// signatures are the service's operations.
type SNS struct {
	clk     clock.Clock
	account string
	keys    Keys

	mu     sync.Mutex
	rng    *rand.Rand
	topics map[string]*topic // by ARN
	seq    uint64
}

// topic is one topic, its subscriptions and what was published to it.
type topic struct {
	arn, name, region string
	attrs             map[string]string
	tags              []types.Tag
	subs              []*subscription
	messages          []Message
	fifoSeq           uint64
	dedup             map[string]sent // by deduplication id
	seq               uint64
}

// sent remembers a FIFO message for deduplication.
type sent struct {
	id string
	at time.Time
}

// dedupWindow is how long SNS FIFO topics remember deduplication ids.
const dedupWindow = 5 * time.Minute

// subscription is one subscription.
type subscription struct {
	arn, protocol, endpoint string
	attrs                   map[string]string
	confirmed               bool
}

// Message is one published message as the recorder keeps it.
type Message struct {
	MessageID         string
	TopicArn          string
	Subject           string
	Message           string
	MessageStructure  string
	MessageAttributes map[string]types.MessageAttributeValue
	MessageGroupID    string
	SequenceNumber    string
	Time              time.Time
}

// New returns an SNS with no topics.
func New(opts Options) *SNS {
	if opts.Clock == nil {
		panic("notify.New: Options.Clock is required")
	}
	acct := opts.Account
	if acct == "" {
		acct = "123456789012"
	}
	return &SNS{clk: opts.Clock, account: acct, keys: opts.Keys, rng: rand.New(rand.NewPCG(opts.Seed, 0x5e5)), topics: map[string]*topic{}}
}

// TopicKey returns the KmsMasterKeyId of a topic and the topic's region;
// ok is false for an unknown topic, and keyID empty for an unencrypted one.
func (s *SNS) TopicKey(topicArn string) (keyID, region string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.topics[topicArn]
	if !ok {
		return "", "", false
	}
	return t.attrs["KmsMasterKeyId"], t.region, true
}

// kmsCodes maps KMS's exception names to the codes SNS relays them as.
var kmsCodes = map[string]string{
	"NotFoundException":        "KMSNotFound",
	"DisabledException":        "KMSDisabled",
	"KMSInvalidStateException": "KMSInvalidState",
	"AccessDeniedException":    "KMSAccessDenied",
	"ThrottlingException":      "KMSThrottling",
}

// KMSError is the error SNS answers a publish with when KMS refused to use
// the topic's key: KMSNotFound, KMSDisabled, KMSInvalidState,
// KMSAccessDenied or KMSThrottling (HTTP 400), carrying KMS's message as
// SNS relays it ("... (Service: AWSKMS; Status Code: 400; Error Code:
// AccessDeniedException; Request ID: ...; Proxy: null)"). An error that is
// not a *keys.Error is an internal error.
func KMSError(err error) *api.Error {
	var ke *keys.Error
	if !errors.As(err, &ke) {
		return api.Internal("The local cloud could not use the topic's key: %v", err)
	}
	code, ok := kmsCodes[ke.Code]
	if !ok {
		return api.Internal("The local cloud's key store answered %s, which SNS does not relay: %s", ke.Code, ke.Message)
	}
	return api.Errorf(http.StatusBadRequest, code, "%s", ke.ServiceMessage())
}

// checkKey resolves an encrypted topic's key and checks that it can be
// used; s.mu is held (the key store takes only its own lock).
func (s *SNS) checkKey(t *topic) error {
	id := t.attrs["KmsMasterKeyId"]
	if id == "" || s.keys == nil {
		return nil
	}
	k, err := s.keys.Resolve(t.region, id)
	if err == nil {
		err = s.keys.Usable(k)
	}
	if err != nil {
		return KMSError(err)
	}
	return nil
}

// Messages returns the messages published to a topic, oldest first (none
// for an unknown or deleted topic).
func (s *SNS) Messages(topicArn string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.topics[topicArn]
	if !ok {
		return nil
	}
	out := make([]Message, len(t.messages))
	for i, m := range t.messages {
		out[i] = m
		out[i].MessageAttributes = cloneAttrs(m.MessageAttributes)
	}
	return out
}

func cloneAttrs(in map[string]types.MessageAttributeValue) map[string]types.MessageAttributeValue {
	out := make(map[string]types.MessageAttributeValue, len(in))
	for k, v := range in {
		v.BinaryValue = append([]byte(nil), v.BinaryValue...)
		out[k] = v
	}
	return out
}

// uuid returns a version-4-shaped UUID from the seeded source; mu is held.
func (s *SNS) uuid() string {
	a, b := s.rng.Uint64(), s.rng.Uint64()
	a = (a &^ 0xf000) | 0x4000
	b = (b &^ (0xc << 60)) | (0x8 << 60)
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", a>>32, (a>>16)&0xffff, a&0xffff, b>>48, b&0xffffffffffff)
}

func invalidParameter(format string, args ...any) *api.Error {
	return api.Errorf(http.StatusBadRequest, "InvalidParameter", format, args...)
}

func topicNotFound() *api.Error {
	return api.Errorf(http.StatusNotFound, "NotFound", "Topic does not exist")
}

var topicNamePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)

// topicAttributes are the attributes CreateTopic accepts.
var topicAttributes = map[string]bool{
	"DeliveryPolicy": true, "DisplayName": true, "Policy": true, "KmsMasterKeyId": true,
	"FifoTopic": true, "ContentBasedDeduplication": true, "SignatureVersion": true,
	"TracingConfig": true, "ArchivePolicy": true, "FifoThroughputScope": true,
}

// CreateTopic creates a topic, or returns the existing topic of that name
// when the attributes agree (InvalidParameter when they differ). Names are
// 1 to 256 letters, digits, hyphens and underscores; FIFO topic names end
// in ".fifo" and need FifoTopic=true.
func (s *SNS) CreateTopic(ctx context.Context, in *sns.CreateTopicInput, _ ...func(*sns.Options)) (*sns.CreateTopicOutput, error) {
	in, region, done := api.Begin(ctx, &s.mu, in)
	defer done()
	if in.Name == nil {
		return nil, invalidParameter("Invalid parameter: Name")
	}
	name := *in.Name
	fifo := in.Attributes["FifoTopic"] == "true"
	base, hasSuffix := strings.CutSuffix(name, ".fifo")
	if !topicNamePattern.MatchString(base) || len(name) > 256 {
		return nil, invalidParameter("Invalid parameter: Topic Name")
	}
	if fifo != hasSuffix {
		return nil, invalidParameter("Invalid parameter: Fifo Topic names must end with .fifo and must be made up of only uppercase and lowercase ASCII letters, numbers, underscores, and hyphens, and must be between 1 and 256 characters long.")
	}
	for k, v := range in.Attributes {
		if !topicAttributes[k] {
			return nil, invalidParameter("Invalid parameter: Attributes Reason: Unknown attribute %s", k)
		}
		switch k {
		case "FifoTopic", "ContentBasedDeduplication":
			if v != "true" && v != "false" {
				return nil, invalidParameter("Invalid parameter: Attributes Reason: %s must be true or false", k)
			}
		case "Policy", "DeliveryPolicy", "ArchivePolicy":
			if !json.Valid([]byte(v)) {
				return nil, invalidParameter("Invalid parameter: Attributes Reason: %s is not valid JSON", k)
			}
		}
	}
	if in.Attributes["ContentBasedDeduplication"] == "true" && !fifo {
		return nil, invalidParameter("Invalid parameter: Attributes Reason: ContentBasedDeduplication can only be set for FIFO topics")
	}
	arn := fmt.Sprintf("arn:aws:sns:%s:%s:%s", region, s.account, name)
	if t, ok := s.topics[arn]; ok {
		for k, v := range in.Attributes {
			if t.attrs[k] != v {
				return nil, invalidParameter("Invalid parameter: Attributes Reason: Topic already exists with different attributes")
			}
		}
		return &sns.CreateTopicOutput{TopicArn: aws.String(arn)}, nil
	}
	attrs := map[string]string{}
	for k, v := range in.Attributes {
		attrs[k] = v
	}
	s.seq++
	s.topics[arn] = &topic{arn: arn, name: name, region: region, attrs: attrs, tags: append([]types.Tag(nil), in.Tags...), dedup: map[string]sent{}, seq: s.seq}
	return &sns.CreateTopicOutput{TopicArn: aws.String(arn)}, nil
}

// regionTopics lists a region's topics in creation order; mu is held.
func (s *SNS) regionTopics(region string) []*topic {
	var out []*topic
	for _, t := range s.topics {
		if t.region == region {
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].seq < out[j].seq })
	return out
}

// offset reads a NextToken.
func offset(tok *string) (int, error) {
	if aws.ToString(tok) == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(strings.TrimPrefix(*tok, "t-"))
	if err != nil || n < 0 || !strings.HasPrefix(*tok, "t-") {
		return 0, invalidParameter("Invalid parameter: NextToken")
	}
	return n, nil
}

// ListTopics lists the region's topics, 100 per page.
func (s *SNS) ListTopics(ctx context.Context, in *sns.ListTopicsInput, _ ...func(*sns.Options)) (*sns.ListTopicsOutput, error) {
	in, region, done := api.Begin(ctx, &s.mu, in)
	defer done()
	off, err := offset(in.NextToken)
	if err != nil {
		return nil, err
	}
	all := s.regionTopics(region)
	out := &sns.ListTopicsOutput{Topics: []types.Topic{}}
	for i := min(off, len(all)); i < len(all); i++ {
		if len(out.Topics) == pageSize {
			out.NextToken = aws.String("t-" + strconv.Itoa(i))
			break
		}
		out.Topics = append(out.Topics, types.Topic{TopicArn: aws.String(all[i].arn)})
	}
	return out, nil
}

// topic finds a topic by ARN; mu is held.
func (s *SNS) topic(arn *string) (*topic, error) {
	if aws.ToString(arn) == "" {
		return nil, invalidParameter("Invalid parameter: TopicArn")
	}
	t, ok := s.topics[*arn]
	if !ok {
		return nil, topicNotFound()
	}
	return t, nil
}

// defaultPolicy is the access policy SNS gives a new topic: the owner may
// use every topic action.
func (s *SNS) defaultPolicy(arn string) string {
	return fmt.Sprintf(`{"Version":"2008-10-17","Id":"__default_policy_ID","Statement":[{"Sid":"__default_statement_ID","Effect":"Allow","Principal":{"AWS":"*"},"Action":["SNS:GetTopicAttributes","SNS:SetTopicAttributes","SNS:AddPermission","SNS:RemovePermission","SNS:DeleteTopic","SNS:Subscribe","SNS:ListSubscriptionsByTopic","SNS:Publish"],"Resource":%q,"Condition":{"StringEquals":{"AWS:SourceOwner":%q}}}]}`, arn, s.account)
}

// GetTopicAttributes returns a topic's attributes, including the computed
// ones (TopicArn, Owner, Policy, subscription counts).
func (s *SNS) GetTopicAttributes(ctx context.Context, in *sns.GetTopicAttributesInput, _ ...func(*sns.Options)) (*sns.GetTopicAttributesOutput, error) {
	in, _, done := api.Begin(ctx, &s.mu, in)
	defer done()
	t, err := s.topic(in.TopicArn)
	if err != nil {
		return nil, err
	}
	confirmed, pending := 0, 0
	for _, sub := range t.subs {
		if sub.confirmed {
			confirmed++
		} else {
			pending++
		}
	}
	attrs := map[string]string{
		"TopicArn":                t.arn,
		"Owner":                   s.account,
		"Policy":                  s.defaultPolicy(t.arn),
		"DisplayName":             "",
		"SubscriptionsConfirmed":  strconv.Itoa(confirmed),
		"SubscriptionsPending":    strconv.Itoa(pending),
		"SubscriptionsDeleted":    "0",
		"EffectiveDeliveryPolicy": `{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":20,"maxDelayTarget":20,"numRetries":3,"numMaxDelayRetries":0,"numNoDelayRetries":0,"numMinDelayRetries":0,"backoffFunction":"linear"},"disableSubscriptionOverrides":false,"defaultRequestPolicy":{"headerContentType":"text/plain; charset=UTF-8"}}}`,
	}
	for k, v := range t.attrs {
		attrs[k] = v
	}
	return &sns.GetTopicAttributesOutput{Attributes: attrs}, nil
}

// DeleteTopic deletes a topic and its subscriptions. Deleting a topic that
// does not exist succeeds, as SNS documents.
func (s *SNS) DeleteTopic(ctx context.Context, in *sns.DeleteTopicInput, _ ...func(*sns.Options)) (*sns.DeleteTopicOutput, error) {
	in, _, done := api.Begin(ctx, &s.mu, in)
	defer done()
	if aws.ToString(in.TopicArn) == "" {
		return nil, invalidParameter("Invalid parameter: TopicArn")
	}
	delete(s.topics, *in.TopicArn)
	return &sns.DeleteTopicOutput{}, nil
}

// protocols maps each protocol to a check of its endpoint and whether its
// subscriptions need confirmation.
var protocols = map[string]struct {
	valid   func(string) bool
	confirm bool
}{
	"http":        {func(e string) bool { return strings.HasPrefix(e, "http://") }, true},
	"https":       {func(e string) bool { return strings.HasPrefix(e, "https://") }, true},
	"email":       {func(e string) bool { return strings.Contains(e, "@") }, true},
	"email-json":  {func(e string) bool { return strings.Contains(e, "@") }, true},
	"sms":         {phonePattern.MatchString, false},
	"sqs":         {func(e string) bool { return strings.HasPrefix(e, "arn:aws:sqs:") }, false},
	"lambda":      {func(e string) bool { return strings.HasPrefix(e, "arn:aws:lambda:") }, false},
	"firehose":    {func(e string) bool { return strings.HasPrefix(e, "arn:aws:firehose:") }, false},
	"application": {func(e string) bool { return strings.HasPrefix(e, "arn:aws:sns:") }, false},
}

// Subscribe stores a subscription. The same protocol and endpoint on a
// topic return the existing subscription. http, https and email
// subscriptions are pending confirmation: the call returns "pending
// confirmation" unless ReturnSubscriptionArn is set.
func (s *SNS) Subscribe(ctx context.Context, in *sns.SubscribeInput, _ ...func(*sns.Options)) (*sns.SubscribeOutput, error) {
	in, _, done := api.Begin(ctx, &s.mu, in)
	defer done()
	proto := aws.ToString(in.Protocol)
	p, ok := protocols[proto]
	if !ok {
		return nil, invalidParameter("Invalid parameter: Amazon SNS does not support this protocol string: %s", proto)
	}
	endpoint := aws.ToString(in.Endpoint)
	if !p.valid(endpoint) {
		return nil, invalidParameter("Invalid parameter: Endpoint for protocol %s: %s", proto, endpoint)
	}
	t, err := s.topic(in.TopicArn)
	if err != nil {
		return nil, err
	}
	for _, sub := range t.subs {
		if sub.protocol == proto && sub.endpoint == endpoint {
			return &sns.SubscribeOutput{SubscriptionArn: aws.String(shownARN(sub, in.ReturnSubscriptionArn))}, nil
		}
	}
	attrs := map[string]string{}
	for k, v := range in.Attributes {
		attrs[k] = v
	}
	sub := &subscription{arn: t.arn + ":" + s.uuid(), protocol: proto, endpoint: endpoint, attrs: attrs, confirmed: !p.confirm}
	t.subs = append(t.subs, sub)
	return &sns.SubscribeOutput{SubscriptionArn: aws.String(shownARN(sub, in.ReturnSubscriptionArn))}, nil
}

// shownARN is how Subscribe and ListSubscriptionsByTopic name a
// subscription: unconfirmed ones have no ARN to show.
func shownARN(sub *subscription, always bool) string {
	if sub.confirmed || always {
		return sub.arn
	}
	return "pending confirmation"
}

// ListSubscriptionsByTopic lists a topic's subscriptions, 100 per page;
// pending ones show "PendingConfirmation" as their ARN.
func (s *SNS) ListSubscriptionsByTopic(ctx context.Context, in *sns.ListSubscriptionsByTopicInput, _ ...func(*sns.Options)) (*sns.ListSubscriptionsByTopicOutput, error) {
	in, _, done := api.Begin(ctx, &s.mu, in)
	defer done()
	off, err := offset(in.NextToken)
	if err != nil {
		return nil, err
	}
	t, err := s.topic(in.TopicArn)
	if err != nil {
		return nil, err
	}
	out := &sns.ListSubscriptionsByTopicOutput{Subscriptions: []types.Subscription{}}
	for i := min(off, len(t.subs)); i < len(t.subs); i++ {
		if len(out.Subscriptions) == pageSize {
			out.NextToken = aws.String("t-" + strconv.Itoa(i))
			break
		}
		sub := t.subs[i]
		arn := sub.arn
		if !sub.confirmed {
			arn = "PendingConfirmation"
		}
		out.Subscriptions = append(out.Subscriptions, types.Subscription{
			SubscriptionArn: aws.String(arn), Owner: aws.String(s.account), Protocol: aws.String(sub.protocol),
			Endpoint: aws.String(sub.endpoint), TopicArn: aws.String(t.arn),
		})
	}
	return out, nil
}

var phonePattern = regexp.MustCompile(`^\+?[0-9]{5,15}$`)

var attrTypePattern = regexp.MustCompile(`^(String|Number|Binary|String\.Array)(\.[A-Za-z0-9_.-]+)?$`)

// checkSubject applies SNS's subject rules: at most 100 printable ASCII
// characters, no line breaks, not empty.
func checkSubject(subj string) error {
	if subj == "" || len(subj) > maxSubjectLength {
		return api.Errorf(http.StatusBadRequest, "InvalidParameter", "Invalid parameter: Subject")
	}
	for _, r := range subj {
		if r > unicode.MaxASCII || r < 0x20 || r == 0x7f {
			return api.Errorf(http.StatusBadRequest, "InvalidParameter", "Invalid parameter: Subject")
		}
	}
	return nil
}

// checkAttributes applies the message attribute rules.
func checkAttributes(attrs map[string]types.MessageAttributeValue) error {
	if len(attrs) > maxMessageAttributes {
		return api.Errorf(http.StatusBadRequest, "InvalidParameterValue", "Number of message attributes [%d] exceeds the allowed maximum [%d].", len(attrs), maxMessageAttributes)
	}
	for name, v := range attrs {
		lower := strings.ToLower(name)
		if name == "" || len(name) > 256 || strings.HasPrefix(lower, "aws.") || strings.HasPrefix(lower, "amazon.") || strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".") || strings.Contains(name, "..") {
			return api.Errorf(http.StatusBadRequest, "InvalidParameterValue", "Message attribute name '%s' is invalid.", name)
		}
		dt := aws.ToString(v.DataType)
		if !attrTypePattern.MatchString(dt) {
			return api.Errorf(http.StatusBadRequest, "InvalidParameterValue", "The message attribute '%s' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.", name)
		}
		switch {
		case strings.HasPrefix(dt, "Binary"):
			if len(v.BinaryValue) == 0 {
				return api.Errorf(http.StatusBadRequest, "InvalidParameterValue", "The message attribute '%s' with type 'Binary' must use field 'Binary'.", name)
			}
		case v.StringValue == nil:
			return api.Errorf(http.StatusBadRequest, "InvalidParameterValue", "The message attribute '%s' must contain non-empty message attribute value for message attribute type '%s'.", name, dt)
		case strings.HasPrefix(dt, "Number"):
			if _, err := strconv.ParseFloat(*v.StringValue, 64); err != nil {
				return api.Errorf(http.StatusBadRequest, "InvalidParameterValue", "Could not cast message attribute '%s' value to number.", name)
			}
		}
	}
	return nil
}

// Publish records a message on a topic and returns its MessageId. It
// returns NotFound for an unknown topic, InvalidParameter or
// InvalidParameterValue for a message, subject or attributes SNS would
// refuse, and KMSNotFound or KMSDisabled for an encrypted topic whose key
// is missing or disabled (see the package doc). FIFO topics need
// MessageGroupId and a deduplication id (or content-based deduplication); a
// duplicate within the five-minute deduplication window returns the first
// message's id without recording it again. A MessageGroupId sent to a
// standard topic is recorded and otherwise ignored.
func (s *SNS) Publish(ctx context.Context, in *sns.PublishInput, _ ...func(*sns.Options)) (*sns.PublishOutput, error) {
	in, _, done := api.Begin(ctx, &s.mu, in)
	defer done()
	if in.PhoneNumber != nil {
		return nil, invalidParameter("Invalid parameter: PhoneNumber: the local cloud does not send SMS directly; publish to a topic")
	}
	arn := in.TopicArn
	if arn == nil {
		arn = in.TargetArn
	}
	if in.TopicArn != nil && in.TargetArn != nil {
		return nil, invalidParameter("Invalid parameter: TopicArn or TargetArn Reason: Both TopicArn and TargetArn were specified")
	}
	if in.Message == nil || *in.Message == "" {
		return nil, invalidParameter("Invalid parameter: Message too short")
	}
	if len(*in.Message) > maxMessageBytes {
		return nil, invalidParameter("Invalid parameter: Message too long")
	}
	if in.Subject != nil {
		if err := checkSubject(*in.Subject); err != nil {
			return nil, err
		}
	}
	structure := aws.ToString(in.MessageStructure)
	switch structure {
	case "":
	case "json":
		var m map[string]any
		if json.Unmarshal([]byte(*in.Message), &m) != nil {
			return nil, invalidParameter("Invalid parameter: Message Structure - JSON message body failed to parse")
		}
		if _, ok := m["default"]; !ok {
			return nil, invalidParameter("Invalid parameter: Message Structure - No default entry in JSON message body")
		}
	default:
		return nil, invalidParameter("Invalid parameter: MessageStructure")
	}
	if err := checkAttributes(in.MessageAttributes); err != nil {
		return nil, err
	}
	t, err := s.topic(arn)
	if err != nil {
		return nil, err
	}
	if err := s.checkKey(t); err != nil {
		return nil, err
	}
	msg := Message{
		TopicArn: t.arn, Subject: aws.ToString(in.Subject), Message: *in.Message, MessageStructure: structure,
		MessageAttributes: cloneAttrs(in.MessageAttributes), Time: s.clk.Now(),
	}
	out := &sns.PublishOutput{}
	if t.attrs["FifoTopic"] == "true" {
		if aws.ToString(in.MessageGroupId) == "" {
			return nil, invalidParameter("Invalid parameter: The MessageGroupId parameter is required for FIFO topics")
		}
		dedup := aws.ToString(in.MessageDeduplicationId)
		if dedup == "" {
			if t.attrs["ContentBasedDeduplication"] != "true" {
				return nil, invalidParameter("Invalid parameter: The topic should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly")
			}
			dedup = "content:" + *in.Message
		}
		if prev, dup := t.dedup[dedup]; dup && msg.Time.Sub(prev.at) < dedupWindow {
			return &sns.PublishOutput{MessageId: aws.String(prev.id)}, nil
		}
		t.fifoSeq++
		msg.SequenceNumber = fmt.Sprintf("%020d", t.fifoSeq)
		out.SequenceNumber = aws.String(msg.SequenceNumber)
		msg.MessageID = s.uuid()
		t.dedup[dedup] = sent{id: msg.MessageID, at: msg.Time}
	} else {
		msg.MessageID = s.uuid()
	}
	msg.MessageGroupID = aws.ToString(in.MessageGroupId)
	t.messages = append(t.messages, msg)
	out.MessageId = aws.String(msg.MessageID)
	return out, nil
}
