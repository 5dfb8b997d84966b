package manifest

import (
	"encoding/json"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/theater-go/theater/supervisor"
)

// maxNameLen bounds Name. Actor ids are built from the name and travel in
// every subject, KV key and chain header of the actor; 64 is long enough
// for a descriptive name and keeps an id with a suffix far below NATS's
// and file systems' limits (JetStream keeps streams in directories named
// after them).
const maxNameLen = 64

// Validate reports the first problem with m as an *Error wrapping
// ErrInvalid, or nil. Zero fields that have defaults are valid: Validate
// checks m as WithDefaults would complete it, so it can be called on a
// manifest decoded from JSON or built in Go before defaults are applied.
func (m *Manifest) Validate() error {
	if e := m.WithDefaults().check(); e != nil {
		return e
	}
	return nil
}

// check validates a manifest whose defaults are applied. It returns the
// concrete type so that Parse can add a position before it becomes an
// error interface value.
func (m *Manifest) check() *Error {
	if m.Name == "" {
		return fieldErr("name", "required")
	}
	if !validName(m.Name) {
		return fieldErr("name", "invalid name %q: use 1 to %d letters, digits, '-' and '_', starting with a letter or digit", m.Name, maxNameLen)
	}
	if m.Module == "" {
		return fieldErr("module", "required")
	}
	if hex, ok := m.ModuleDigest(); ok && !validDigest(hex) {
		return fieldErr("module", "invalid digest %q: want %s followed by 64 lowercase hex digits", m.Module, digestPrefix)
	}
	if e := m.checkTypes(); e != nil {
		return e
	}
	if e := m.checkState(); e != nil {
		return e
	}
	if e := m.Capabilities.check(); e != nil {
		return e
	}
	if e := m.checkChannel(); e != nil {
		return e
	}
	if e := m.Limits.check(); e != nil {
		return e
	}
	return m.Supervision.check()
}

func (m *Manifest) checkTypes() *Error {
	t := &m.Types
	for _, f := range []struct {
		key, ref string
	}{
		{"types.send", t.Send},
		{"types.request", t.Request},
		{"types.reply", t.Reply},
		{"types.state", t.State},
	} {
		if f.ref == "" {
			continue
		}
		named, err := parseTypeRef(f.ref)
		if err != nil {
			return fieldErr(f.key, "invalid type %q: %v", f.ref, err)
		}
		if named && m.WIT == "" {
			return fieldErr(f.key, "%q is a named WIT type; set wit to the file or directory that defines it", f.ref)
		}
	}
	// A request without a reply type (or the reverse) leaves the host
	// unable to check one side of the exchange.
	switch {
	case t.Request != "" && t.Reply == "":
		return fieldErr("types.reply", "required when types.request is set")
	case t.Reply != "" && t.Request == "":
		return fieldErr("types.request", "required when types.reply is set")
	}
	return nil
}

func (m *Manifest) checkState() *Error {
	s := &m.State
	if s.Initial != "" && len(s.InitialMsgpack) > 0 {
		return fieldErr("state.initial_base64", "set only one of state.initial and state.initial_base64")
	}
	if s.Initial == "" {
		return nil
	}
	if err := json.Unmarshal([]byte(s.Initial), new(json.RawMessage)); err != nil {
		return fieldErr("state.initial", "invalid JSON: %v", err)
	}
	// The JSON-to-msgpack mapping depends on the WIT type (a list<u8> is
	// base64 text in JSON, for one), so JSON state cannot be converted
	// without it.
	if m.Types.State == "" {
		return fieldErr("state.initial", "JSON state needs types.state; set it, or give msgpack in state.initial_base64")
	}
	return nil
}

func (c *Capabilities) check() *Error {
	if c.Log != nil {
		switch c.Log.Level {
		case LevelDebug, LevelInfo, LevelWarn, LevelError:
		default:
			return fieldErr("capabilities.log.level", "unknown level %q (want debug, info, warn or error)", c.Log.Level)
		}
	}
	if s := c.Supervisor; s != nil {
		if e := intRange("capabilities.supervisor.max_children", s.MaxChildren, MaxMaxChildren); e != nil {
			return e
		}
		for _, p := range s.Manifests {
			if _, err := path.Match(p, ""); err != nil || p == "" {
				return fieldErr("capabilities.supervisor.manifests", "invalid pattern %q", p)
			}
		}
		for _, d := range s.Modules {
			if hex, ok := strings.CutPrefix(d, digestPrefix); !ok || !validDigest(hex) {
				return fieldErr("capabilities.supervisor.modules", "invalid digest %q: want %s followed by 64 lowercase hex digits", d, digestPrefix)
			}
		}
		if e := checkSupervisor("capabilities.supervisor.", s.Strategy, s.Intensity, s.Period, s.Backoff); e != nil {
			return e
		}
	}
	if h := c.HTTP; h != nil {
		if e := h.check(); e != nil {
			return e
		}
	}
	if cc := c.Config; cc != nil {
		if e := cc.check(); e != nil {
			return e
		}
	}
	if tc := c.Timer; tc != nil && (tc.MaxSets < 0 || tc.MaxSets > MaxStoreOps) {
		return fieldErr("capabilities.timer.max_sets", "%d is out of range 0..%d", tc.MaxSets, MaxStoreOps)
	}
	if st := c.Store; st != nil {
		if e := st.check(); e != nil {
			return e
		}
	}
	if c.Message != nil {
		for _, p := range c.Message.Allow {
			if p == "" {
				return fieldErr("capabilities.message.allow", "empty pattern")
			}
			if _, err := path.Match(p, ""); err != nil {
				return fieldErr("capabilities.message.allow", "invalid pattern %q", p)
			}
		}
	}
	return nil
}

func (l *Limits) check() *Error {
	if l.Fuel < 0 {
		return fieldErr("limits.fuel", "%d is negative", l.Fuel)
	}
	if e := intRange("limits.memory_pages", l.MemoryPages, MaxMemoryPages); e != nil {
		return e
	}
	if d := time.Duration(l.HandlerDeadline); d <= 0 || d > MaxHandlerDeadline {
		return fieldErr("limits.handler_deadline", "%v is out of range: want more than 0s and at most %v", d, MaxHandlerDeadline)
	}
	if e := intRange("limits.mailbox", l.Mailbox, MaxMailbox); e != nil {
		return e
	}
	if e := intRange("limits.max_message_bytes", l.MaxMessageBytes, MaxMaxMessageBytes); e != nil {
		return e
	}
	// A message is copied into the guest's memory before its handler runs,
	// so a limit above the memory limit would admit messages that can
	// never be delivered.
	if mem := l.MemoryPages * pageBytes; l.MaxMessageBytes > mem {
		return fieldErr("limits.max_message_bytes", "%d is more than the actor's memory of %d bytes (limits.memory_pages = %d)", l.MaxMessageBytes, mem, l.MemoryPages)
	}
	if d := time.Duration(l.Idle); d < 0 {
		return fieldErr("limits.idle", "%v is negative", d)
	}
	return l.checkBudget()
}

func intRange(key string, v, maxV int) *Error {
	if v < 1 || v > maxV {
		return fieldErr(key, "%d is out of range 1..%d", v, maxV)
	}
	return nil
}

func (s *Supervision) check() *Error {
	switch s.Restart {
	case supervisor.Permanent, supervisor.Transient, supervisor.Temporary:
	default:
		return fieldErr("supervision.restart", "unknown restart type %q (want permanent, transient or temporary)", s.Restart)
	}
	switch s.StartFrom {
	case supervisor.StartInitial, supervisor.StartLast:
	default:
		return fieldErr("supervision.start_from", "unknown state %q (want initial or last)", s.StartFrom)
	}
	if s.Shutdown < 0 {
		return fieldErr("supervision.shutdown", "%v is negative", time.Duration(s.Shutdown))
	}
	return checkSupervisor("supervision.", "", s.Intensity, s.Period, s.Backoff)
}

// validName reports whether s can be an actor name. The alphabet is the
// intersection of what a NATS subject token, a JetStream KV key and a file
// name allow, so an id derived from a name is safe in all three.
func validName(s string) bool {
	if s == "" || len(s) > maxNameLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case (c == '-' || c == '_') && i > 0:
		default:
			return false
		}
	}
	return true
}

func validDigest(hex string) bool {
	if len(hex) != 64 {
		return false
	}
	for i := 0; i < len(hex); i++ {
		if c := hex[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func fieldErr(key, format string, args ...any) *Error {
	return &Error{Key: key, Msg: fmt.Sprintf(format, args...)}
}

func (h *HTTPConfig) check() *Error {
	const key = "capabilities.http."
	if len(h.Hosts) == 0 {
		return fieldErr(key+"hosts", "no hosts: name at least one")
	}
	for _, host := range h.Hosts {
		rest := strings.TrimPrefix(host, "*.")
		if rest == "" || strings.ContainsAny(rest, "*/@ ?#") || strings.Contains(rest, ":") && !strings.HasPrefix(rest, "[") {
			return fieldErr(key+"hosts", "invalid host %q: want a host name, an IP address or *.domain", host)
		}
	}
	for _, p := range h.Ports {
		if p < 1 || p > 65535 {
			return fieldErr(key+"ports", "invalid port %d", p)
		}
	}
	for _, s := range h.Schemes {
		if s != "http" && s != "https" {
			return fieldErr(key+"schemes", "unknown scheme %q (want http or https)", s)
		}
	}
	for _, m := range h.Methods {
		if m == "" || m != strings.ToUpper(m) || strings.ContainsAny(m, " \t\r\n") {
			return fieldErr(key+"methods", "invalid method %q: want upper case, as GET", m)
		}
	}
	// Zero sizes take the host's default.
	for k, v := range map[string]int{"max_request_bytes": h.MaxRequestBytes, "max_response_bytes": h.MaxResponseBytes} {
		if v < 0 || v > MaxMaxMessageBytes {
			return fieldErr(key+k, "%d is out of range 0..%d", v, MaxMaxMessageBytes)
		}
	}
	if d := time.Duration(h.Timeout); d < 0 || d > MaxHandlerDeadline {
		return fieldErr(key+"timeout", "%v is out of range: want at most %v", d, MaxHandlerDeadline)
	}
	if h.MaxRedirects < -1 || h.MaxRedirects > 20 {
		return fieldErr(key+"max_redirects", "%d is out of range: want -1 (none) to 20", h.MaxRedirects)
	}
	for _, name := range h.ExposeHeaders {
		if name == "" || strings.ContainsAny(name, " :\t\r\n") {
			return fieldErr(key+"expose_headers", "invalid header name %q", name)
		}
	}
	return nil
}

// ValidStoreNamespace reports whether ns can name a shared store
// namespace: 1 to 64 of [A-Za-z0-9_-], a single subject token.
func ValidStoreNamespace(ns string) bool {
	if ns == "" || len(ns) > 64 {
		return false
	}
	for i := 0; i < len(ns); i++ {
		c := ns[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func (c *StoreConfig) check() *Error {
	const key = "capabilities.store."
	for k, list := range map[string][]string{"read": c.Read, "write": c.Write} {
		for _, ns := range list {
			if !ValidStoreNamespace(ns) {
				return fieldErr(key+k, "invalid namespace %q: want 1 to 64 of letters, digits, '-' and '_'", ns)
			}
		}
	}
	for k, b := range map[string][2]int{"max_key_bytes": {c.MaxKeyBytes, MaxStoreKeyBytes},
		"max_value_bytes": {c.MaxValueBytes, MaxMaxMessageBytes}, "max_ops": {c.MaxOps, MaxStoreOps}} {
		if b[0] < 0 || b[0] > b[1] { // zero takes the default
			return fieldErr(key+k, "%d is out of range 0..%d", b[0], b[1])
		}
	}
	return nil
}

func (c *ConfigConfig) check() *Error {
	seen := map[string]bool{}
	names := []string{}
	for _, v := range c.Value {
		names = append(names, v.Name)
	}
	for _, v := range c.Secret {
		names = append(names, v.Name)
	}
	for _, n := range names {
		if !ValidStoreNamespace(n) {
			return fieldErr("capabilities.config", "invalid name %q: want 1 to 64 of letters, digits, '-' and '_'", n)
		}
		if seen[n] {
			return fieldErr("capabilities.config", "name %q given twice", n)
		}
		seen[n] = true
	}
	return nil
}
