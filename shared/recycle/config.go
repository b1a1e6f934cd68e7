package recycle

import "time"

// Config is the recycle-scheduler function's own configuration; config.Load
// reads it from the environment (docs/recycle.md, "Configuration").
type Config struct {
	// MaxAge is the default of the phoenix:max-age tag.
	MaxAge time.Duration
	// MaxPerNight is how many recycles one night starts; 0 reports drift
	// and starts none.
	MaxPerNight int
	// Jitter spreads the night's starts over [0, Jitter); 0 starts every
	// recycle at the event's time.
	Jitter time.Duration
	// FreezeParameter is the SSM parameter holding the global freeze; ""
	// means there is none.
	FreezeParameter string
}
