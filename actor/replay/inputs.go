package replay

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"

	"github.com/theater-go/theater/actor"
)

// The Data encodings of inputs (docs/CHAIN.md, "Inputs"). Each has one
// form: decoders re-encode and compare, as chain.Decode does, so replay
// never answers from bytes a recorder would not have written.

func encodeClock(ns int64) []byte {
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	_ = enc.EncodeInt(ns) // a bytes.Buffer does not fail
	return buf.Bytes()
}

// decodeClock parses a clock input's Data: one msgpack int, smallest form.
func decodeClock(data []byte) (int64, error) {
	dec := msgpack.NewDecoder(bytes.NewReader(data))
	ns, err := dec.DecodeInt64()
	if err != nil {
		return 0, fmt.Errorf("%w: clock: %v", ErrMalformedInput, err)
	}
	if !bytes.Equal(encodeClock(ns), data) {
		return 0, fmt.Errorf("%w: clock: not one msgpack int in its smallest form", ErrMalformedInput)
	}
	return ns, nil
}

// The message.error cases (theater.wit) a request may end with.
const (
	errUnknownActor = "unknown-actor"
	errDenied       = "denied"
	errInvalid      = "invalid"
	errTooLarge     = "too-large"
	errTimeout      = "timeout"
	errFailed       = "failed"
)

// result is a request's outcome as recorded: the reply, or the
// message.error case the guest got and its value. detail is the text of
// invalid and failed; limit that of too-large, with hasLimit false when
// the limit was the actor's own (the host fills it in).
type result struct {
	ok       bool
	reply    []byte
	code     string
	detail   string
	limit    uint32
	hasLimit bool
}

// resultOf classifies a router's answer in the order the host's
// message.error mapping does (actor/host.go, sendErr), so that the error
// replay returns maps to the same variant the guest got live.
func resultOf(reply []byte, err error) result {
	var tl *actor.TooLargeError
	switch {
	case err == nil:
		return result{ok: true, reply: reply}
	case errors.Is(err, actor.ErrUnknownActor):
		return result{code: errUnknownActor}
	case errors.Is(err, actor.ErrDenied):
		return result{code: errDenied}
	case errors.Is(err, actor.ErrInvalidMessage):
		return result{code: errInvalid, detail: err.Error()}
	case errors.As(err, &tl):
		return result{code: errTooLarge, limit: uint32(min(max(tl.Limit, 0), math.MaxUint32)), hasLimit: true}
	case errors.Is(err, actor.ErrTooLarge):
		return result{code: errTooLarge}
	case errors.Is(err, context.DeadlineExceeded):
		return result{code: errTimeout}
	default:
		return result{code: errFailed, detail: err.Error()}
	}
}

// answer is what replay's router returns for r: the reply, or an error
// the host maps to r's variant.
func (r result) answer() ([]byte, error) {
	switch r.code {
	case "":
		return r.reply, nil
	case errUnknownActor:
		return nil, actor.ErrUnknownActor
	case errDenied:
		return nil, actor.ErrDenied
	case errInvalid:
		return nil, &recordedError{msg: r.detail, is: actor.ErrInvalidMessage}
	case errTooLarge:
		if r.hasLimit {
			return nil, &actor.TooLargeError{Size: int(r.limit) + 1, Limit: int(r.limit)}
		}
		return nil, actor.ErrTooLarge
	case errTimeout:
		return nil, context.DeadlineExceeded
	default:
		return nil, &recordedError{msg: r.detail}
	}
}

// recordedError reproduces an error's text (which the guest received) and
// its class.
type recordedError struct {
	msg string
	is  error
}

func (e *recordedError) Error() string { return e.msg }
func (e *recordedError) Unwrap() error { return e.is }

// encode writes a request input's Data:
// {"to": str, "result": {"ok": bin} | {"err": {case: value}}}.
func (r result) encode(to string) []byte {
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	// Writes to a bytes.Buffer do not fail.
	_ = enc.EncodeMapLen(2)
	_ = enc.EncodeString("to")
	_ = enc.EncodeString(to)
	_ = enc.EncodeString("result")
	_ = enc.EncodeMapLen(1)
	if r.ok {
		_ = enc.EncodeString("ok")
		_ = enc.EncodeBytesLen(len(r.reply)) // bin, never nil
		buf.Write(r.reply)
		return buf.Bytes()
	}
	_ = enc.EncodeString("err")
	_ = enc.EncodeMapLen(1)
	_ = enc.EncodeString(r.code)
	switch {
	case r.code == errInvalid || r.code == errFailed:
		_ = enc.EncodeString(r.detail)
	case r.code == errTooLarge && r.hasLimit:
		_ = enc.EncodeUint(uint64(r.limit))
	default:
		_ = enc.EncodeNil()
	}
	return buf.Bytes()
}

// decodeRequest parses a request input's Data.
func decodeRequest(data []byte) (to string, r result, err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("%w: request: %v", ErrMalformedInput, err)
		}
	}()
	dec := msgpack.NewDecoder(bytes.NewReader(data))
	if err := key(dec, 2, "to"); err != nil {
		return "", r, err
	}
	if to, err = dec.DecodeString(); err != nil {
		return "", r, err
	}
	if err := dec.Skip(); err != nil { // "result", checked by the re-encoding
		return "", r, err
	}
	n, err := dec.DecodeMapLen()
	if err != nil || n != 1 {
		return "", r, fmt.Errorf("result is not a one-key map")
	}
	which, err := dec.DecodeString()
	if err != nil {
		return "", r, err
	}
	switch which {
	case "ok":
		r.ok = true
		if r.reply, err = dec.DecodeBytes(); err != nil {
			return "", r, err
		}
		if r.reply == nil {
			r.reply = []byte{}
		}
	case "err":
		if n, err := dec.DecodeMapLen(); err != nil || n != 1 {
			return "", r, fmt.Errorf("err is not a one-key map")
		}
		if r.code, err = dec.DecodeString(); err != nil {
			return "", r, err
		}
		switch r.code {
		case errInvalid, errFailed:
			r.detail, err = dec.DecodeString()
		case errTooLarge:
			var c byte
			if c, err = dec.PeekCode(); err == nil && c == msgpcode.Nil {
				err = dec.DecodeNil()
			} else if err == nil {
				var v uint64
				if v, err = dec.DecodeUint64(); err == nil && v > math.MaxUint32 {
					return "", r, fmt.Errorf("too-large limit %d is not a u32", v)
				}
				r.limit, r.hasLimit = uint32(v), true
			}
		case errUnknownActor, errDenied, errTimeout:
			err = dec.DecodeNil()
		default:
			return "", r, fmt.Errorf("unknown error case %q", r.code)
		}
		if err != nil {
			return "", r, err
		}
	default:
		return "", r, fmt.Errorf("result key %q is neither ok nor err", which)
	}
	if !bytes.Equal(r.encode(to), data) {
		return "", r, fmt.Errorf("not in its one encoding")
	}
	return to, r, nil
}

func key(dec *msgpack.Decoder, n int, name string) error {
	got, err := dec.DecodeMapLen()
	if err != nil {
		return err
	}
	if got != n {
		return fmt.Errorf("a map of %d keys, want %d", got, n)
	}
	k, err := dec.DecodeString()
	if err != nil {
		return err
	}
	if k != name {
		return fmt.Errorf("key %q, want %q", k, name)
	}
	return nil
}
