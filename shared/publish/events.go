package publish

import (
	"encoding/json"
	"fmt"
	"regexp"
	"time"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// Sources and detail-types of the publishing events (FIELD-NOTES section
// 4). The EventBridge rules in docs/publish.md match exactly these.
const (
	SourceImageBuilder     = "aws.imagebuilder"
	DetailTypeImageBuilder = "EC2 Image Builder Image State Change"
	SourceEC2              = "aws.ec2"
	DetailTypeAMI          = "EC2 AMI State Change"
	SourceSSM              = "aws.ssm"
	DetailTypeParameter    = "Parameter Store Change"
	// DataTypeImage is the data type of a parameter whose value is an AMI
	// id, which Parameter Store validates against EC2 before storing it.
	DataTypeImage = "aws:ec2:image"
)

// Event is a publishing event as EventBridge delivers it, checked, before
// the image it announces is read.
type Event struct {
	Kind    Kind
	ID      string
	Time    time.Time
	Account string
	Region  string
	// Ref is what the event names: the image build version ARN
	// (KindImageBuilder), the AMI id (KindAMI) or the parameter name
	// (KindParameter).
	Ref string
	// Operation is the parameter operation, Create or Update
	// (KindParameter only).
	Operation string
}

// Bounds on outside input, so that a hostile or broken event cannot make
// Phoenix carry megabytes of names around.
const (
	maxParameterName = 2048
)

var (
	// amiPattern is an AMI id: 8 or 17 hexadecimal digits.
	amiPattern = regexp.MustCompile(`^ami-([0-9a-f]{8}|[0-9a-f]{17})$`)
	// buildARNPattern is an image build version ARN:
	// arn:PARTITION:imagebuilder:REGION:ACCOUNT:image/NAME/X.Y.Z/BUILD.
	buildARNPattern = regexp.MustCompile(`^arn:(aws|aws-cn|aws-us-gov):imagebuilder:([a-z0-9-]+):([0-9]{12}):image/[a-z0-9_-]{1,128}/[0-9]+\.[0-9]+\.[0-9]+/[0-9]+$`)
	// parameterPattern is a Parameter Store name: letters, digits and
	// _.- in segments separated by '/', optionally starting with one.
	parameterPattern = regexp.MustCompile(`^/?[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$`)
)

// bad builds the *rollout.BadInputError of a rejected event: a publishing
// event that cannot be acted on never becomes one by retrying.
func bad(what, format string, args ...any) error {
	return &rollout.BadInputError{Reason: what + ": " + fmt.Sprintf(format, args...)}
}

// imageBuilderDetail is the detail of an Image Builder state change.
type imageBuilderDetail struct {
	State struct {
		Status string `json:"status"`
	} `json:"state"`
}

// ParseImageBuilderEvent reads an "EC2 Image Builder Image State Change"
// event. Only a change to AVAILABLE announces an image; any other state,
// a missing or malformed image build version ARN, or an ARN from another
// region or account than the event is a *rollout.BadInputError. The event
// holds no AMI id: Ref is the build version ARN for GetImage.
func ParseImageBuilderEvent(raw []byte) (Event, error) {
	const what = "Image Builder event"
	env, at, err := rollout.ParseEnvelope(raw, what, SourceImageBuilder, DetailTypeImageBuilder)
	if err != nil {
		return Event{}, err
	}
	var d imageBuilderDetail
	if err := json.Unmarshal(env.Detail, &d); err != nil {
		return Event{}, bad(what, "detail: %v", err)
	}
	if d.State.Status != "AVAILABLE" {
		return Event{}, bad(what, "state %q is not AVAILABLE", d.State.Status)
	}
	if len(env.Resources) != 1 {
		return Event{}, bad(what, "want exactly one resource, the image build version ARN; got %d", len(env.Resources))
	}
	arn := env.Resources[0]
	m := buildARNPattern.FindStringSubmatch(arn)
	if m == nil {
		return Event{}, bad(what, "resource %q is not an image build version ARN", arn)
	}
	if m[2] != env.Region || m[3] != env.Account {
		return Event{}, bad(what, "image %s belongs to %s/%s, not to the event's %s/%s", arn, m[3], m[2], env.Account, env.Region)
	}
	return Event{Kind: KindImageBuilder, ID: env.ID, Time: at, Account: env.Account, Region: env.Region, Ref: arn}, nil
}

// amiDetail is the detail of an EC2 AMI state change.
type amiDetail struct {
	ImageID string `json:"ImageId"`
	State   string `json:"State"`
}

// ParseAMIEvent reads an "EC2 AMI State Change" event. Only the state
// available announces an image; failed, deregistered, disabled and a
// missing or malformed ImageId are a *rollout.BadInputError.
func ParseAMIEvent(raw []byte) (Event, error) {
	const what = "AMI event"
	env, at, err := rollout.ParseEnvelope(raw, what, SourceEC2, DetailTypeAMI)
	if err != nil {
		return Event{}, err
	}
	var d amiDetail
	if err := json.Unmarshal(env.Detail, &d); err != nil {
		return Event{}, bad(what, "detail: %v", err)
	}
	if d.State != "available" {
		return Event{}, bad(what, "state %q is not available", d.State)
	}
	if !amiPattern.MatchString(d.ImageID) {
		return Event{}, bad(what, "ImageId %q is not an AMI id", d.ImageID)
	}
	return Event{Kind: KindAMI, ID: env.ID, Time: at, Account: env.Account, Region: env.Region, Ref: d.ImageID}, nil
}

// parameterDetail is the detail of a Parameter Store change.
type parameterDetail struct {
	Operation string `json:"operation"`
	Name      string `json:"name"`
	Type      string `json:"type"`
	DataType  string `json:"dataType"`
	Exception string `json:"exception"`
}

// ParseParameterEvent reads a "Parameter Store Change" event. Only Create
// and Update of a String parameter of data type aws:ec2:image announce an
// image; a Delete, a label change, another data type, and a write that
// Parameter Store refused (the detail then carries an exception, such as
// "Unable to Describe Resource") are a *rollout.BadInputError. The event
// holds no value: Ref is the parameter name for GetParameter.
func ParseParameterEvent(raw []byte) (Event, error) {
	const what = "Parameter Store event"
	env, at, err := rollout.ParseEnvelope(raw, what, SourceSSM, DetailTypeParameter)
	if err != nil {
		return Event{}, err
	}
	var d parameterDetail
	if err := json.Unmarshal(env.Detail, &d); err != nil {
		return Event{}, bad(what, "detail: %v", err)
	}
	if d.Operation != "Create" && d.Operation != "Update" {
		return Event{}, bad(what, "operation %q does not publish a value (want Create or Update)", d.Operation)
	}
	if d.DataType != DataTypeImage {
		return Event{}, bad(what, "data type %q is not %s", d.DataType, DataTypeImage)
	}
	if d.Type != "String" {
		return Event{}, bad(what, "type %q is not String, the only type an %s parameter has", d.Type, DataTypeImage)
	}
	if d.Exception != "" {
		return Event{}, bad(what, "Parameter Store refused the write: %s", d.Exception)
	}
	if len(d.Name) > maxParameterName || !parameterPattern.MatchString(d.Name) {
		return Event{}, bad(what, "name %q is not a parameter name", d.Name)
	}
	return Event{Kind: KindParameter, ID: env.ID, Time: at, Account: env.Account, Region: env.Region, Ref: d.Name, Operation: d.Operation}, nil
}

// ParseEvent reads any of the three publishing events, choosing the parser
// by source and detail-type. Any other event is a *rollout.BadInputError.
func ParseEvent(raw []byte) (Event, error) {
	var head struct {
		Source     string `json:"source"`
		DetailType string `json:"detail-type"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return Event{}, bad("publishing event", "not a JSON event object: %v", err)
	}
	switch {
	case head.Source == SourceImageBuilder && head.DetailType == DetailTypeImageBuilder:
		return ParseImageBuilderEvent(raw)
	case head.Source == SourceEC2 && head.DetailType == DetailTypeAMI:
		return ParseAMIEvent(raw)
	case head.Source == SourceSSM && head.DetailType == DetailTypeParameter:
		return ParseParameterEvent(raw)
	}
	return Event{}, bad("publishing event", "source %q with detail-type %q is not an image publishing event", head.Source, head.DetailType)
}

// ValidImageID reports whether id is written as an AMI id.
func ValidImageID(id string) bool { return amiPattern.MatchString(id) }
