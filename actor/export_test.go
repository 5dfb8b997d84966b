package actor

// QueueLen returns how many messages wait in a's mailbox, for the tests
// of package actor_test that must know a message is queued.
func QueueLen(a *Actor) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.qlen()
}
