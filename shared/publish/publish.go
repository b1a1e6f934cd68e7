// Package publish decides what Phoenix does when an image is published
// (issue 6, docs/publish.md): it parses the three publishing events
// (EC2 Image Builder, EC2 AMI state change, Parameter Store change),
// normalizes what they announce into one Image record, checks the image's
// provenance, chooses the groups that take it, orders them into waves, names
// every execution so that a duplicate or late event never starts a second
// rollout, and decides whether a group rolls now, queues the image behind a
// running rollout, or drops it as older than what the group already runs.
//
// Like shared/rollout it imports no AWS package: the image-published
// handler (Service) reaches AWS through the ports declared here, which
// shared/images implements.
package publish

import (
	"maps"
	"time"
)

// Kind says which publishing event announced an image.
type Kind string

// The publishing events Phoenix accepts (FIELD-NOTES section 4).
const (
	// KindImageBuilder is an "EC2 Image Builder Image State Change" to
	// AVAILABLE; the AMIs are read with GetImage.
	KindImageBuilder Kind = "imagebuilder"
	// KindAMI is an "EC2 AMI State Change" to available.
	KindAMI Kind = "ami"
	// KindParameter is a "Parameter Store Change" (Create or Update) of an
	// aws:ec2:image parameter; the AMI is read with GetParameter.
	KindParameter Kind = "parameter"
)

// Tag keys Phoenix reads on images and groups for publishing. The
// targeting and wave rules are documented in docs/publish.md.
const (
	// TagRole names what an image is for and what a group runs: an image
	// rolls into the enabled groups whose role equals its own.
	TagRole = "phoenix:role"
	// TagWave is a group's wave: 0 is the canary wave, and a wave rolls
	// only after every group of the waves before it finalized.
	TagWave = "phoenix:wave"
)

// Image is the one record the three publishing events are normalized into.
type Image struct {
	Kind Kind `json:"kind"`
	// EventID is the publishing event's id: with the group, the key of
	// exactly-once starts.
	EventID   string    `json:"eventId"`
	EventTime time.Time `json:"eventTime"`
	// Source is what the event named: the image build version ARN, the
	// AMI id or the parameter name.
	Source string `json:"source"`
	// Region is the region the event came from and Phoenix runs in.
	Region string `json:"region"`
	// IDs are the image's AMI ids by region (an Image Builder distribution
	// may copy it to several regions).
	IDs          map[string]string `json:"imageIds"`
	Name         string            `json:"name"`
	Owner        string            `json:"owner"`
	Architecture string            `json:"architecture"`
	State        string            `json:"state"`
	CreatedAt    time.Time         `json:"createdAt"`
	// Tags are the AMI's tags in Region (the tags launched instances and
	// Phoenix's targeting see; an Image Builder image's own resource tags
	// are not copied to the AMI and are not used).
	Tags map[string]string `json:"tags,omitempty"`
}

// ID returns the image's AMI id in its region, "" when it has none there.
func (i Image) ID() string { return i.IDs[i.Region] }

// clone returns a copy that shares no map with i.
func (i Image) clone() Image {
	i.IDs = maps.Clone(i.IDs)
	i.Tags = maps.Clone(i.Tags)
	return i
}
