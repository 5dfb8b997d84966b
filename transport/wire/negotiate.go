package wire

import (
	"fmt"
	"mime"
	"slices"
	"strings"

	"github.com/nats-io/nats.go"
)

// Media types a payload may declare in its [ContentTypeHeader]. The
// msgpack ones are the names in use for msgpack (none is registered);
// a message without the header is msgpack.
var msgpackTypes = []string{"application/msgpack", "application/x-msgpack", "application/vnd.msgpack"}

// MsgEncoding is the encoding m declares, read by the HTTP rules for
// Content-Type (RFC 9110 §8.3): the header's key in any case (nats.go
// keeps keys as the sender wrote them, so `content-type` is a
// Content-Type), the media type in any case, parameters allowed
// (a charset must be UTF-8, the only one JSON has). A message without
// the header is msgpack.
//
// A header block nats.go could not decode, a media type this package
// does not know and two Content-Type values that disagree are
// [ErrBadHeader] and [ErrContentType]: a payload is never read under a
// guessed encoding (a JSON 5 read as msgpack is the number 53).
func MsgEncoding(m *nats.Msg) (Encoding, error) {
	if HeaderBroken(m) {
		return Msgpack, fmt.Errorf("%w: the message's header block does not parse (NATS/1.0 then Key: value lines, each ending in CRLF, then an empty line)", ErrBadHeader)
	}
	return HeaderEncoding(m.Header)
}

// HeaderBroken reports whether m came with a header block nats.go could
// not decode. nats.go passes such a message on with a nil Header and
// the block cut off its data, which only its size still shows.
func HeaderBroken(m *nats.Msg) bool {
	return m.Header == nil && m.Size() > len(m.Subject)+len(m.Reply)+len(m.Data)
}

// HeaderEncoding is the encoding h declares; see [MsgEncoding]. It
// allocates nothing for a message without Content-Type or with one
// spelt as [ContentJSON]: it runs on every request.
func HeaderEncoding(h nats.Header) (Encoding, error) {
	var first string
	found, enc := false, Msgpack
	for k, vs := range h {
		if len(k) != len(ContentTypeHeader) || !strings.EqualFold(k, ContentTypeHeader) {
			continue
		}
		for _, v := range vs {
			e, err := ParseContentType(v)
			if err != nil {
				return Msgpack, err
			}
			if found && e != enc {
				return Msgpack, fmt.Errorf("%w: Content-Type given twice, as %q and %q", ErrContentType, first, v)
			}
			first, enc, found = v, e, true
		}
	}
	return enc, nil
}

// ParseContentType is the encoding a Content-Type value names:
// application/json (with an optional charset=utf-8) is [JSON], the
// msgpack media types are [Msgpack]; anything else is [ErrContentType].
func ParseContentType(v string) (Encoding, error) {
	if v == ContentJSON { // the usual spelling, without a parse
		return JSON, nil
	}
	mt, params, err := mime.ParseMediaType(v)
	if err != nil {
		return Msgpack, fmt.Errorf("%w: Content-Type %q: %w", ErrContentType, v, err)
	}
	switch {
	case mt == ContentJSON:
		if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "utf8") {
			return Msgpack, fmt.Errorf("%w: Content-Type %q: JSON is UTF-8, not %s", ErrContentType, v, cs)
		}
		return JSON, nil
	case slices.Contains(msgpackTypes, mt):
		return Msgpack, nil
	}
	return Msgpack, fmt.Errorf("%w: Content-Type %q: a payload is %s (or no Content-Type: msgpack)", ErrContentType, v, strings.Join(append([]string{ContentJSON}, msgpackTypes...), ", "))
}
