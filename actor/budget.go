package actor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/theater-go/theater/actor/manifest"
)

// Budget bounds what one handler call may ask of the host, so that a
// guest in a loop floods neither the node's log nor the mailboxes of
// others. A zero field takes the runtime's default ([DefaultBudget]).
type Budget struct {
	// LogLines and LogBytes bound the log lines of one handler call and
	// their message bytes; LogLinesPerSecond and LogBytesPerSecond the
	// actor's lines across calls, per second of wall time. Lines past a
	// bound are dropped and counted ([Actor.LimitsHit]); the first drop
	// of a call is logged once, as a warning. The guest is not told: a
	// log line is not worth failing a handler for.
	LogLines, LogBytes                   int
	LogLinesPerSecond, LogBytesPerSecond int
	// Sends and Requests bound the message.send and message.request
	// calls of one handler call; one past them is refused to the guest
	// with a failed error naming the limit.
	Sends, Requests int
}

// DefaultBudget is the budget a spec without one gets.
var DefaultBudget = Budget{
	LogLines:          100,
	LogBytes:          64 << 10,
	LogLinesPerSecond: 1000,
	LogBytesPerSecond: 1 << 20,
	Sends:             1000,
	Requests:          100,
}

// withDefaults fills b's zero fields from d, and those still zero from
// DefaultBudget: a runtime's default limits may leave the budget out.
func (b Budget) withDefaults(d Budget) Budget {
	for _, src := range []Budget{d, DefaultBudget} {
		for _, f := range []struct{ v, d *int }{
			{&b.LogLines, &src.LogLines}, {&b.LogBytes, &src.LogBytes},
			{&b.LogLinesPerSecond, &src.LogLinesPerSecond}, {&b.LogBytesPerSecond, &src.LogBytesPerSecond},
			{&b.Sends, &src.Sends}, {&b.Requests, &src.Requests},
		} {
			if *f.v == 0 {
				*f.v = *f.d
			}
		}
	}
	return b
}

// ErrBudget is wrapped by the error a guest's send or request gets when
// its handler call has used up its budget, and by a request to itself.
var ErrBudget = errors.New("actor: budget spent")

// ErrSelfRequest is the error of a request an actor makes to itself from
// a handler: it would wait for its own turn, which never comes.
var ErrSelfRequest = errors.New("actor: request to itself")

// LimitsHit counts what an actor's budget refused since it was spawned.
type LimitsHit struct {
	DroppedLogLines, DroppedLogBytes uint64
	RefusedSends, RefusedRequests    uint64
}

// LimitsHit returns the actor's counts of dropped logs and refused
// sends and requests.
func (a *Actor) LimitsHit() LimitsHit {
	u := &a.usage
	return LimitsHit{
		DroppedLogLines: u.droppedLines.Load(), DroppedLogBytes: u.droppedBytes.Load(),
		RefusedSends: u.refusedSends.Load(), RefusedRequests: u.refusedRequests.Load(),
	}
}

// usage is what the current handler call (and second) has used of an
// actor's budget. The per-call counts are reset when a call starts; the
// host functions of one actor run one at a time, but mu keeps a request
// made from a goroutine the guest does not own (none today) safe.
type usage struct {
	mu                 sync.Mutex
	lines, bytes       int
	sends, requests    int
	warned             bool
	second             time.Time
	secLines, secBytes int
	droppedLines       atomic.Uint64
	droppedBytes       atomic.Uint64
	refusedSends       atomic.Uint64
	refusedRequests    atomic.Uint64
}

// startCall resets the per-call counts; the handler call begins.
func (u *usage) startCall() {
	u.mu.Lock()
	u.lines, u.bytes, u.sends, u.requests, u.warned = 0, 0, 0, 0, false
	u.mu.Unlock()
}

// logAllowed reports whether a line of n bytes fits the budget, counting
// it; the first line of a call that does not is warned about.
func (a *Actor) logAllowed(ctx context.Context, n int) bool {
	b, u := &a.spec.Limits.Budget, &a.usage
	u.mu.Lock()
	now := time.Now()
	if now.Sub(u.second) >= time.Second {
		u.second, u.secLines, u.secBytes = now, 0, 0
	}
	ok := u.lines < b.LogLines && u.bytes+n <= b.LogBytes && u.secLines < b.LogLinesPerSecond && u.secBytes+n <= b.LogBytesPerSecond
	warn := false
	if ok {
		u.lines, u.bytes, u.secLines, u.secBytes = u.lines+1, u.bytes+n, u.secLines+1, u.secBytes+n
	} else {
		warn, u.warned = !u.warned, true
	}
	u.mu.Unlock()
	if !ok {
		u.droppedLines.Add(1)
		u.droppedBytes.Add(uint64(n))
	}
	if warn {
		a.spec.Logger.LogAttrs(ctx, slog.LevelWarn, "actor: log budget spent; dropping the rest of this handler call's lines",
			slog.String("actor", a.spec.ID), slog.Int("lines_per_call", b.LogLines), slog.Int("bytes_per_call", b.LogBytes),
			slog.Int("lines_per_second", b.LogLinesPerSecond), slog.Int("bytes_per_second", b.LogBytesPerSecond))
	}
	return ok
}

// sendAllowed counts a message.send; an error once the call's budget is
// spent.
func (a *Actor) sendAllowed() error {
	u, limit := &a.usage, a.spec.Limits.Budget.Sends
	u.mu.Lock()
	ok := u.sends < limit
	if ok {
		u.sends++
	}
	u.mu.Unlock()
	if !ok {
		u.refusedSends.Add(1)
		return fmt.Errorf("%w: actor %q sent %d messages in this handler call, its limit (limits.sends_per_call)", ErrBudget, a.spec.ID, limit)
	}
	return nil
}

// requestAllowed counts a message.request to to; an error once the
// call's budget is spent, or when to is the actor itself.
func (a *Actor) requestAllowed(to string) error {
	u, limit := &a.usage, a.spec.Limits.Budget.Requests
	if to == a.spec.ID {
		u.refusedRequests.Add(1)
		return fmt.Errorf("%w: actor %q asked itself from its own handler, which would wait for its own turn forever (send to itself instead)", ErrSelfRequest, to)
	}
	u.mu.Lock()
	ok := u.requests < limit
	if ok {
		u.requests++
	}
	u.mu.Unlock()
	if !ok {
		u.refusedRequests.Add(1)
		return fmt.Errorf("%w: actor %q made %d requests in this handler call, its limit (limits.requests_per_call)", ErrBudget, a.spec.ID, limit)
	}
	return nil
}

// budgetOf is the budget a manifest's limits give; zero fields are
// filled at spawn.
func budgetOf(l *manifest.Limits) Budget {
	return Budget{
		LogLines: l.LogLinesPerCall, LogBytes: l.LogBytesPerCall,
		LogLinesPerSecond: l.LogLinesPerSecond, LogBytesPerSecond: l.LogBytesPerSecond,
		Sends: l.SendsPerCall, Requests: l.RequestsPerCall,
	}
}
