package sim

// Provisional bodies so the package compiles while the Auto Scaling side is
// written; the Auto Scaling side replaces every function in this file.

// onInstanceStateChange is called by the EC2 side whenever an instance's
// EC2 state changes (pending -> running, -> shutting-down, -> terminated).
func (w *World) onInstanceStateChange(r *Region, inst *Instance) {}

// onTargetHealthChange is called by the ELB side whenever a target's health
// state or reason changes.
func (w *World) onTargetHealthChange(r *Region, tg *TargetGroup, t *Target) {}
