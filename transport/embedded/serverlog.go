package embedded

import (
	"context"
	"fmt"
	"log/slog"
)

// serverLogger adapts a [*slog.Logger] to nats-server's Logger interface.
//
// Levels: Notice is Info, Warn is Warn, Error and Fatal are Error, Debug
// and Trace are Debug. nats-server's own Fatalf exits the process; an
// embedded server must not take the node down with it, so the adapter
// logs the message and hands it to [Start], which returns it as
// the start error (a port in use, an unwritable store dir).
type serverLogger struct {
	log   *slog.Logger
	fatal chan string
}

func newServerLogger(l *slog.Logger) *serverLogger {
	return &serverLogger{log: l.With("component", "nats-server"), fatal: make(chan string, 1)}
}

func (l *serverLogger) emit(level slog.Level, format string, v []any) {
	// The server formats eagerly in its own logger; here formatting is
	// skipped when the level is off, which matters for Debug/Trace.
	ctx := context.Background()
	if l.log.Enabled(ctx, level) {
		l.log.Log(ctx, level, fmt.Sprintf(format, v...))
	}
}

func (l *serverLogger) Noticef(format string, v ...any) { l.emit(slog.LevelInfo, format, v) }
func (l *serverLogger) Warnf(format string, v ...any)   { l.emit(slog.LevelWarn, format, v) }
func (l *serverLogger) Errorf(format string, v ...any)  { l.emit(slog.LevelError, format, v) }
func (l *serverLogger) Debugf(format string, v ...any)  { l.emit(slog.LevelDebug, format, v) }
func (l *serverLogger) Tracef(format string, v ...any)  { l.emit(slog.LevelDebug, format, v) }

func (l *serverLogger) Fatalf(format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	l.log.Error(msg, "fatal", true)
	// Only the first fatal message explains a failed start; later ones
	// (or any after a successful start) are logged and dropped.
	select {
	case l.fatal <- msg:
	default:
	}
}
