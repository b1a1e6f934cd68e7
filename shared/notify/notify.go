// Package notify tells people and systems what a rollout did, and wakes
// parked state machine tasks: rollout.Notifier over SNS and EventBridge,
// rollout.Resumer over Step Functions.
//
// A notification goes to both channels: an SNS message for people (email,
// chat, paging through subscriptions, filterable on its attributes) and a
// "Phoenix Rollout ..." event with source phoenix.rollouts on EventBridge for
// systems, its detail as docs/design.md lists it. Both are at least once: a
// retried step may send a notification twice, never zero times.
package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/phoenix-rollouts/phoenix/shared/awserr"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// Source is the source of every event Phoenix emits.
const Source = "phoenix.rollouts"

// The detail types of the events Phoenix emits (docs/design.md).
const (
	DetailStarted        = "Phoenix Rollout Started"
	DetailSucceeded      = "Phoenix Rollout Succeeded"
	DetailReverted       = "Phoenix Rollout Reverted"
	DetailRefused        = "Phoenix Rollout Refused"
	DetailNeedsAttention = "Phoenix Rollout Needs Attention"
)

// DefaultEventBus is the bus events go to unless Options name another.
const DefaultEventBus = "default"

// Limits of the services.
const (
	maxSubject = 100  // SNS: printable ASCII, no line breaks
	maxReason  = 4096 // keeps an event far below EventBridge's 256 KiB
)

// SNSAPI is the part of the SNS client the Notifier uses.
type SNSAPI interface {
	Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// EventBridgeAPI is the part of the EventBridge client the Notifier uses.
type EventBridgeAPI interface {
	PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, optFns ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

// Detail is the detail of a "Phoenix Rollout ..." event. The first eight
// fields are the contract of docs/design.md; the others add what a consumer
// would otherwise have to look up. Version numbers are JSON numbers, so
// that numeric event patterns work on them.
type Detail struct {
	RolloutID   string `json:"rolloutId"`
	Group       string `json:"group"`
	Region      string `json:"region"`
	Mode        string `json:"mode"`
	FromVersion int64  `json:"fromVersion"`
	ToVersion   int64  `json:"toVersion"`
	// ImageID is the image the rollout rolls to.
	ImageID string `json:"imageId"`
	Reason  string `json:"reason"`

	Status           string `json:"status"`
	Severity         string `json:"severity"`
	LaunchTemplateID string `json:"launchTemplateId,omitempty"`
	FromImageID      string `json:"fromImageId,omitempty"`
	RefreshID        string `json:"refreshId,omitempty"`
	ExecutionARN     string `json:"executionArn,omitempty"`
	TriggerKind      string `json:"triggerKind,omitempty"`
}

// Options configure a Notifier.
type Options struct {
	// TopicARN is the SNS topic notifications are published to. Required.
	TopicARN string
	// EventBus is the bus events are put on (DefaultEventBus if empty).
	EventBus string
	// Logger receives one line per notification sent (slog.Default if nil).
	Logger *slog.Logger
}

// Notifier is rollout.Notifier over SNS and EventBridge.
type Notifier struct {
	sns    SNSAPI
	events EventBridgeAPI
	opts   Options
}

var _ rollout.Notifier = (*Notifier)(nil)

// New returns a Notifier using clients made from cfg.
func New(cfg aws.Config, opts Options) (*Notifier, error) {
	return NewFromClients(sns.NewFromConfig(cfg), eventbridge.NewFromConfig(cfg), opts)
}

// NewFromClients returns a Notifier using the given clients.
func NewFromClients(snsClient SNSAPI, events EventBridgeAPI, opts Options) (*Notifier, error) {
	if opts.TopicARN == "" {
		return nil, errors.New("notify: a topic ARN is required")
	}
	if opts.EventBus == "" {
		opts.EventBus = DefaultEventBus
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Notifier{sns: snsClient, events: events, opts: opts}, nil
}

// Notify publishes n to the topic and puts it on the event bus. Both are
// attempted even when one fails, so that one broken channel does not
// silence the other; the error then names what failed and is a
// *rollout.TransientError when every failure is worth retrying. A
// notification without a detail type is a *rollout.BadInputError.
func (n *Notifier) Notify(ctx context.Context, note rollout.Notification) error {
	if note.DetailType == "" {
		return &rollout.BadInputError{Reason: "a notification needs a detail type"}
	}
	if note.Severity == "" {
		note.Severity = "info"
	}
	detail := detailOf(note)
	attrs := []any{"detailType", note.DetailType, "severity", note.Severity, "rolloutId", detail.RolloutID,
		"region", detail.Region, "group", detail.Group, "fromVersion", detail.FromVersion, "toVersion", detail.ToVersion}

	var errs []error
	msgID, err := n.publish(ctx, note, detail)
	if err != nil {
		errs = append(errs, err)
	} else {
		attrs = append(attrs, "messageId", msgID)
	}
	eventID, err := n.putEvent(ctx, note.DetailType, detail)
	if err != nil {
		errs = append(errs, err)
	} else {
		attrs = append(attrs, "eventId", eventID)
	}
	if len(errs) == 0 {
		n.opts.Logger.InfoContext(ctx, "sent rollout notification", attrs...)
		return nil
	}
	joined := errors.Join(errs...)
	n.opts.Logger.ErrorContext(ctx, "rollout notification failed", append(attrs, "error", joined.Error())...)
	for _, e := range errs {
		if !rollout.IsTransient(e) {
			return fmt.Errorf("notify %s of rollout %s: %w", note.DetailType, detail.RolloutID, joined)
		}
	}
	return &rollout.TransientError{Op: "notify " + note.DetailType, Err: joined}
}

// PublishText publishes a message that is not about one rollout (the image
// lifecycle's nightly summary) to the topic only, with attrs as message
// attributes (empty values are left out: SNS refuses them).
func (n *Notifier) PublishText(ctx context.Context, subject, message string, attrs map[string]string) error {
	id, err := n.send(ctx, subject, message, attrs)
	if err != nil {
		return err
	}
	n.opts.Logger.InfoContext(ctx, "published to the topic", "subject", subject, "messageId", id)
	return nil
}

// detailOf builds the event detail of a notification.
func detailOf(note rollout.Notification) Detail {
	r := note.Rollout
	return Detail{
		RolloutID:        r.ID,
		Group:            r.Group.Name,
		Region:           r.Group.Region,
		Mode:             string(r.Mode),
		FromVersion:      r.From.Number,
		ToVersion:        r.To.Number,
		ImageID:          r.To.ImageID,
		Reason:           truncate(r.Reason, maxReason),
		Status:           string(r.Status),
		Severity:         note.Severity,
		LaunchTemplateID: firstNonEmpty(r.To.LaunchTemplateID, r.From.LaunchTemplateID),
		FromImageID:      r.From.ImageID,
		RefreshID:        r.RefreshID,
		ExecutionARN:     r.ExecutionARN,
		TriggerKind:      r.Trigger.Kind,
	}
}

// publish sends the SNS message: the human text, then the facts, with the
// facts also as message attributes so that subscriptions can filter (page
// on critical, mail the rest).
func (n *Notifier) publish(ctx context.Context, note rollout.Notification, d Detail) (string, error) {
	subject := note.Subject
	if subject == "" {
		subject = fmt.Sprintf("%s: %s", note.DetailType, d.Group)
	}
	return n.send(ctx, subject, messageBody(note, d), map[string]string{
		"detailType": note.DetailType, "severity": note.Severity, "rolloutId": d.RolloutID,
		"group": d.Group, "region": d.Region, "status": d.Status, "mode": d.Mode,
	})
}

// send publishes one message with its attributes; SNS refuses an attribute
// without a value, so empty ones are left out.
func (n *Notifier) send(ctx context.Context, subject, message string, attrs map[string]string) (string, error) {
	in := &sns.PublishInput{
		TopicArn:          aws.String(n.opts.TopicARN),
		Subject:           aws.String(snsSubject(subject)),
		Message:           aws.String(message),
		MessageAttributes: map[string]snstypes.MessageAttributeValue{},
	}
	for name, v := range attrs {
		if v != "" {
			in.MessageAttributes[name] = snstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
		}
	}
	out, err := n.sns.Publish(ctx, in)
	if err != nil {
		return "", awserr.Classify("publish to "+n.opts.TopicARN, err, "topic", n.opts.TopicARN, "NotFound", "NotFoundException")
	}
	return aws.ToString(out.MessageId), nil
}

// messageBody is the SNS message: what happened in words, then the facts
// one per line.
func messageBody(note rollout.Notification, d Detail) string {
	var b strings.Builder
	if note.Message != "" {
		b.WriteString(note.Message)
		b.WriteString("\n\n")
	}
	line := func(label, value string) {
		if value != "" {
			fmt.Fprintf(&b, "%-10s %s\n", label+":", value)
		}
	}
	line("Event", note.DetailType)
	line("Severity", note.Severity)
	line("Rollout", d.RolloutID)
	line("Group", d.Region+"/"+d.Group)
	line("Mode", d.Mode)
	line("Status", d.Status)
	line("From", versionText(d.LaunchTemplateID, d.FromVersion, d.FromImageID))
	line("To", versionText(d.LaunchTemplateID, d.ToVersion, d.ImageID))
	line("Refresh", d.RefreshID)
	line("Reason", d.Reason)
	line("Execution", d.ExecutionARN)
	return strings.TrimRight(b.String(), "\n")
}

// versionText renders "lt-1 version 3 (ami-1)", or "" for no version.
func versionText(template string, number int64, image string) string {
	if number == 0 && image == "" {
		return ""
	}
	s := fmt.Sprintf("%s version %d", template, number)
	if image != "" {
		s += " (" + image + ")"
	}
	return strings.TrimSpace(s)
}

// snsSubject makes s acceptable as an SNS subject: printable ASCII, no line
// breaks, at most 100 characters.
func snsSubject(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			b.WriteByte(' ')
		case r >= 0x20 && r < 0x7f:
			b.WriteRune(r)
		default:
			b.WriteByte('?')
		}
	}
	out := strings.TrimSpace(b.String())
	if len(out) > maxSubject {
		out = out[:maxSubject-3] + "..."
	}
	if out == "" {
		out = "Phoenix rollout"
	}
	return out
}

// putEvent puts the event on the bus. PutEvents reports a failed entry in
// its answer, not as an error, so the entry's code is checked too.
func (n *Notifier) putEvent(ctx context.Context, detailType string, d Detail) (string, error) {
	body, err := json.Marshal(d)
	if err != nil {
		return "", fmt.Errorf("encode event detail: %w", err)
	}
	entry := ebtypes.PutEventsRequestEntry{
		Source:       aws.String(Source),
		DetailType:   aws.String(detailType),
		Detail:       aws.String(string(body)),
		EventBusName: aws.String(n.opts.EventBus),
	}
	if d.ExecutionARN != "" {
		entry.Resources = []string{d.ExecutionARN}
	}
	out, err := n.events.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{entry}})
	op := "put event on bus " + n.opts.EventBus
	if err != nil {
		return "", awserr.Classify(op, err, "event bus", n.opts.EventBus, "ResourceNotFoundException")
	}
	if out.FailedEntryCount == 0 && len(out.Entries) == 1 && out.Entries[0].EventId != nil {
		return aws.ToString(out.Entries[0].EventId), nil
	}
	var code, msg string
	if len(out.Entries) > 0 {
		code, msg = aws.ToString(out.Entries[0].ErrorCode), aws.ToString(out.Entries[0].ErrorMessage)
	}
	entryErr := fmt.Errorf("%s: entry refused: %s: %s", op, code, msg)
	if code == "InternalFailure" || code == "ThrottlingException" {
		return "", &rollout.TransientError{Op: op, Err: entryErr}
	}
	return "", entryErr
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

// firstNonEmpty returns the first of its arguments that is not empty.
func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
