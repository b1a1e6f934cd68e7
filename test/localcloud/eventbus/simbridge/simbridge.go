// Package simbridge connects the simulated AWS World to the local cloud's
// EventBridge, so that service events (AMI state changes, instance refresh
// progress, alarm state changes) reach rules through the same bus as
// PutEvents entries. It is a separate package so that the event bus does not
// depend on the resource model.
package simbridge

import (
	"github.com/phoenix-rollouts/phoenix/test/localcloud/eventbus"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/sim"
)

// World is the part of *sim.World the bridge needs.
type World interface {
	Subscribe(fn func(sim.Event))
}

// Attach publishes every event w emits from now on to b, in the region and
// envelope the World gave it. The World calls subscribers with its lock held;
// Publish only records the event and schedules its routing on the clock, so
// it never calls back into the World.
func Attach(b *eventbus.EventBridge, w World) {
	w.Subscribe(func(ev sim.Event) { b.Publish(Convert(ev)) })
}

// Convert turns a World event into the bus's service event.
func Convert(ev sim.Event) eventbus.ServiceEvent {
	return eventbus.ServiceEvent{
		ID:         ev.ID,
		Version:    ev.Version,
		DetailType: ev.DetailType,
		Source:     ev.Source,
		Account:    ev.Account,
		Time:       ev.Time,
		Region:     ev.Region,
		Resources:  append([]string(nil), ev.Resources...),
		Detail:     append([]byte(nil), ev.Detail...),
	}
}
