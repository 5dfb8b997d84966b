package transport

import (
	"log/slog"
	"time"
)

// Option sets a knob of [Connect]. Knobs are what a Go caller chooses (a
// logger, timings); what an operator writes in a file or on the command
// line is in [ClientConfig].
type Option func(*settings)

type settings struct {
	logger         *slog.Logger
	reconnectWait  time.Duration
	maxReconnects  int
	connectTimeout time.Duration
}

func newSettings(opts []Option) settings {
	s := settings{
		logger:         slog.Default(),
		reconnectWait:  2 * time.Second,
		maxReconnects:  -1,
		connectTimeout: 5 * time.Second,
	}
	for _, o := range opts {
		o(&s)
	}
	return s
}

// WithLogger sends connection events (disconnects, reconnects, async
// errors) to l. The default is [slog.Default].
func WithLogger(l *slog.Logger) Option {
	return func(s *settings) {
		if l != nil {
			s.logger = l
		}
	}
}

// WithReconnectWait sets how long a client waits between attempts to
// reach a server after losing its connection (default 2s).
func WithReconnectWait(d time.Duration) Option {
	return func(s *settings) { s.reconnectWait = d }
}

// WithMaxReconnects bounds the reconnect attempts after a lost connection.
// A negative n, the default, retries forever: a node outlives a restart of
// its NATS server rather than exiting.
func WithMaxReconnects(n int) Option {
	return func(s *settings) { s.maxReconnects = n }
}

// WithConnectTimeout bounds one dial and handshake with one server
// (default 5s). The context given to [Connect] bounds the whole attempt.
func WithConnectTimeout(d time.Duration) Option {
	return func(s *settings) { s.connectTimeout = d }
}
