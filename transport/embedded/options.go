package embedded

import "log/slog"

// Option sets a knob of [Start]: what a Go caller chooses, as opposed to
// what an operator writes in a file ([Config]).
type Option func(*settings)

type settings struct {
	logger *slog.Logger
}

func newSettings(opts []Option) settings {
	s := settings{logger: slog.Default()}
	for _, o := range opts {
		o(&s)
	}
	return s
}

// WithLogger sends the server's own log to l (default [slog.Default]).
// Its debug output is on when l has Debug enabled.
func WithLogger(l *slog.Logger) Option {
	return func(s *settings) {
		if l != nil {
			s.logger = l
		}
	}
}
