package manifest

import "strings"

// ChannelConfig configures theater:actor/channel. Publish lists the
// topic patterns the actor may publish to; Subscribe those whose
// publications it receives, as one-way messages of its types.send.
// A pattern is a topic whose tokens may be "*" (any one token) or, as
// the last, ">" (one or more tokens), as in NATS subjects.
type ChannelConfig struct {
	Publish   []string `toml:"publish,omitzero" json:"publish,omitempty"`
	Subscribe []string `toml:"subscribe,omitzero" json:"subscribe,omitempty"`
}

// The channel capability's bounds.
const (
	// MaxTopicBytes bounds a topic and a pattern.
	MaxTopicBytes = 128
	// MaxTopicTokens bounds the dot-separated tokens of a topic.
	MaxTopicTokens = 8
	// MaxChannelPatterns bounds each of Publish and Subscribe.
	MaxChannelPatterns = 64
)

// ValidTopic reports whether t is a topic: 1 to [MaxTopicTokens]
// dot-separated tokens of 1 to 64 of A-Z a-z 0-9 - _, at most
// [MaxTopicBytes] bytes.
func ValidTopic(t string) bool { return validTopic(t, false) }

// ValidTopicPattern reports whether p is a topic pattern: a topic whose
// tokens may be "*", and whose last token may be ">".
func ValidTopicPattern(p string) bool { return validTopic(p, true) }

func validTopic(t string, pattern bool) bool {
	if t == "" || len(t) > MaxTopicBytes {
		return false
	}
	toks := strings.Split(t, ".")
	if len(toks) > MaxTopicTokens {
		return false
	}
	for i, tok := range toks {
		switch {
		case pattern && tok == "*":
		case pattern && tok == ">" && i == len(toks)-1:
		case !ValidStoreNamespace(tok):
			return false
		}
	}
	return true
}

// MatchTopic reports whether topic matches pattern (both valid).
func MatchTopic(pattern, topic string) bool {
	ps, ts := strings.Split(pattern, "."), strings.Split(topic, ".")
	for i, p := range ps {
		switch {
		case p == ">":
			return len(ts) > i
		case i >= len(ts):
			return false
		case p != "*" && p != ts[i]:
			return false
		}
	}
	return len(ps) == len(ts)
}

// AllowsPublish reports whether the actor may publish to topic: channel
// is granted and one of its Publish patterns matches it.
func (m *Manifest) AllowsPublish(topic string) bool {
	c := m.Capabilities.Channel
	if c == nil || !ValidTopic(topic) {
		return false
	}
	for _, p := range c.Publish {
		if MatchTopic(p, topic) {
			return true
		}
	}
	return false
}

func (m *Manifest) checkChannel() *Error {
	c := m.Capabilities.Channel
	if c == nil {
		return nil
	}
	const key = "capabilities.channel."
	for k, list := range map[string][]string{"publish": c.Publish, "subscribe": c.Subscribe} {
		if len(list) > MaxChannelPatterns {
			return fieldErr(key+k, "%d patterns: at most %d", len(list), MaxChannelPatterns)
		}
		for _, p := range list {
			if !ValidTopicPattern(p) {
				return fieldErr(key+k, "invalid topic pattern %q: want 1 to %d dot-separated tokens of A-Z a-z 0-9 - _ (or * and a last >), at most %d bytes",
					p, MaxTopicTokens, MaxTopicBytes)
			}
		}
	}
	if len(c.Subscribe) > 0 && m.Types.Send == "" {
		return fieldErr(key+"subscribe", "publications arrive as one-way messages: set types.send")
	}
	return nil
}
