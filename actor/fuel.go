package actor

// HostCallFuel is the fuel every call of a Theater host function costs,
// on top of the instructions that make it (docs/ABI.md, "Fuel"). It is
// charged before the host function runs, the same on every run, so a
// host-call flood runs out of fuel as deterministically as a loop.
const HostCallFuel = 1000

// charge takes n fuel units for a host call; past the grants it asks the
// meter for more, as a metering point would, which may stop the call
// (deadline, kill or fuel limit). Before the fuel global exists (a start
// function's host calls) nothing is charged.
func (c *callCtx) charge(n int64) {
	if c.fuel == nil {
		return
	}
	left := int64(c.fuel.Get()) - n
	if left < 0 {
		left = c.refill(left)
	}
	c.fuel.Set(uint64(left))
}

// LastFuel returns the fuel the actor's last successful handler call
// consumed (theater_init, a message, theater_on_stop), or 0 before the
// first. The same message on the same state, in an instance that made the
// same calls before, consumes the same fuel on every run and in replay (a
// woken instance's first call may cost more, so a recorder notes where
// instances start again: [Actor.Instances]). Read it while no other
// message can run, as a replayer or the single caller of [Actor.Request]
// does.
func (a *Actor) LastFuel() uint64 { return a.lastFuel.Load() }

// Instances returns how many instances the actor has opened so far: the
// one theater_init ran in, and one more for every call that found the
// actor without one (woken from hibernation, evicted by the live bound,
// after a failure or [Actor.Revert] closed it). A call's fuel and the
// guest's WASI clocks depend on the calls its instance made before, so
// an owner that records a chain compares the count before and after each
// call and records a new instance where it sees one; a replay starts a
// fresh instance at the same point (docs/CHAIN.md, "Instances").
func (a *Actor) Instances() uint64 { return a.instances.Load() }

// told tells the owner that the runtime closed the instance by itself
// (Spec.OnHibernate); the caller holds the semaphore.
func (a *Actor) told() {
	if f := a.spec.OnHibernate; f != nil && !a.done {
		f()
	}
}
