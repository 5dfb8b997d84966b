package chain

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"unicode/utf8"

	"github.com/vmihailenco/msgpack/v5"
)

// maxIDLen is the longest actor id an event may name, as transport's.
const maxIDLen = 128

// Encode returns the canonical payload of e (docs/CHAIN.md): a msgpack
// map with fixed keys in fixed order, integers in their smallest form,
// byte strings as bin and text as str. Every field is always present,
// so one event has exactly one encoding and its hash is well defined.
func (e *Event) Encode() ([]byte, error) {
	w := getWriter()
	defer putWriter(w)
	if err := e.encodeTo(w); err != nil {
		return nil, err
	}
	return bytes.Clone(w.buf.Bytes()), nil
}

func (e *Event) encodeTo(w *writer) error {
	if err := e.validate(); err != nil {
		return err
	}
	w.mapLen(6)
	w.key("v")
	w.uint(Version)
	w.key("actor")
	w.str(e.Actor)
	w.key("seq")
	w.uint(e.Seq)
	w.key("kind")
	w.str(string(e.Body.Kind()))
	w.key("parent")
	w.hash(e.Parent)
	w.key("body")
	e.Body.encode(w)
	return w.err
}

func (e *Event) validate() error {
	switch {
	case e.Body == nil:
		return fmt.Errorf("%w: event %d has no body", ErrInvalid, e.Seq)
	case e.Seq == 0:
		return fmt.Errorf("%w: sequence 0 (chains start at 1)", ErrInvalid)
	case e.Seq == 1 && !e.Parent.IsZero():
		return fmt.Errorf("%w: event 1 has a parent", ErrInvalid)
	}
	return validID("actor", e.Actor)
}

// validID applies transport.ValidID's rule (1 to 128 of [A-Za-z0-9_-]):
// an actor id is a subject token.
func validID(what, id string) error {
	if id == "" || len(id) > maxIDLen {
		return fmt.Errorf("%w: %s id %.40q must be 1 to %d bytes", ErrInvalid, what, id, maxIDLen)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return fmt.Errorf("%w: %s id %q: byte %d is not one of [A-Za-z0-9_-]", ErrInvalid, what, id, i)
		}
	}
	return nil
}

func validCall(c Call) error {
	switch c {
	case CallSend, CallRequest, CallInit, CallStop:
		return nil
	}
	return fmt.Errorf("%w: call %q is not send, request, init or stop", ErrInvalid, c)
}

// Decode parses a payload made by [Event.Encode]. Anything else is an
// error wrapping [ErrMalformed], including a valid msgpack value that is
// not the canonical encoding of the event it describes: canonical bytes
// are re-encoded and compared, so Decode(p) succeeds only if p is
// exactly what Encode would produce.
func Decode(payload []byte) (Event, error) {
	return decode(payload, false)
}

// decode is Decode; with alias, the event's byte fields share payload's
// memory (for the verifier, which drops the event at once).
func decode(payload []byte, alias bool) (Event, error) {
	r := getReader(payload)
	r.alias = alias
	defer putReader(r)
	var e Event
	r.mapLen(6)
	r.key("v")
	if v := r.uint(); r.err == nil && v != Version {
		r.fail("version %d, this build reads %d", v, Version)
	}
	r.key("actor")
	e.Actor = r.str()
	r.key("seq")
	e.Seq = r.uint()
	r.key("kind")
	kind := Kind(r.str())
	r.key("parent")
	e.Parent = r.hash()
	r.key("body")
	if r.err == nil {
		if e.Body = newBody(kind); e.Body == nil {
			r.fail("unknown kind %.40q", kind)
		} else {
			e.Body.decode(r)
		}
	}
	if r.err == nil && r.rd.Len() != 0 {
		r.fail("%d bytes after the event", r.rd.Len())
	}
	if r.err != nil {
		return Event{}, r.err
	}
	w := getWriter()
	defer putWriter(w)
	if err := e.encodeTo(w); err != nil {
		return Event{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if !bytes.Equal(w.buf.Bytes(), payload) {
		return Event{}, fmt.Errorf("%w: not the canonical encoding of event %d", ErrMalformed, e.Seq)
	}
	return e, nil
}

// writer appends msgpack to a buffer; the first error sticks.
type writer struct {
	buf bytes.Buffer
	enc *msgpack.Encoder
	err error
}

var writers = sync.Pool{New: func() any {
	w := &writer{}
	w.enc = msgpack.NewEncoder(&w.buf)
	return w
}}

func getWriter() *writer {
	w := writers.Get().(*writer)
	w.buf.Reset()
	w.err = nil
	return w
}

func putWriter(w *writer) {
	if w.buf.Cap() <= 1<<16 {
		writers.Put(w)
	}
}

func (w *writer) set(err error) {
	if w.err == nil && err != nil {
		w.err = err
	}
}

func (w *writer) mapLen(n int)   { w.set(w.enc.EncodeMapLen(n)) }
func (w *writer) arrayLen(n int) { w.set(w.enc.EncodeArrayLen(n)) }
func (w *writer) uint(n uint64)  { w.set(w.enc.EncodeUint(n)) }
func (w *writer) key(k string)   { w.set(w.enc.EncodeString(k)) }

// str writes text; msgpack str must be UTF-8 (readers in other languages
// decode it as such).
func (w *writer) str(s string) {
	if !utf8.ValidString(s) {
		w.set(fmt.Errorf("%w: string %.40q is not UTF-8", ErrInvalid, s))
		return
	}
	w.set(w.enc.EncodeString(s))
}

// bin writes bytes as bin, empty or not: nil and empty encode alike.
func (w *writer) bin(b []byte) {
	w.set(w.enc.EncodeBytesLen(len(b)))
	w.buf.Write(b)
}

func (w *writer) hash(h Hash) { w.bin(h[:]) }

func (w *writer) id(what, id string) {
	if err := validID(what, id); err != nil {
		w.set(err)
		return
	}
	w.str(id)
}

func (w *writer) call(c Call) {
	w.set(validCall(c))
	w.str(string(c))
}

// reader parses msgpack from a payload; the first error sticks and every
// later read returns zero values.
type reader struct {
	b     []byte
	alias bool // bin values alias b instead of copying it
	rd    bytes.Reader
	dec   *msgpack.Decoder
	err   error
}

var readers = sync.Pool{New: func() any {
	r := &reader{}
	r.dec = msgpack.NewDecoder(&r.rd)
	return r
}}

func getReader(b []byte) *reader {
	r := readers.Get().(*reader)
	r.b = b
	r.rd.Reset(b)
	r.dec.Reset(&r.rd)
	r.err = nil
	return r
}

func putReader(r *reader) {
	r.b, r.alias = nil, false
	r.rd.Reset(nil)
	readers.Put(r)
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
	}
}

func (r *reader) wrap(err error) {
	if r.err == nil && err != nil {
		if errors.Is(err, ErrMalformed) {
			r.err = err
			return
		}
		r.err = fmt.Errorf("%w: %v", ErrMalformed, err)
	}
}

func (r *reader) mapLen(want int) {
	if r.err != nil {
		return
	}
	n, err := r.dec.DecodeMapLen()
	r.wrap(err)
	if r.err == nil && n != want {
		r.fail("map of %d entries, want %d", n, want)
	}
}

// arrayLen reads an array header; each element takes at least a byte, so
// a length beyond the bytes left is malformed (and never allocated).
func (r *reader) arrayLen() int {
	if r.err != nil {
		return 0
	}
	n, err := r.dec.DecodeArrayLen()
	r.wrap(err)
	if r.err == nil && (n < 0 || n > r.rd.Len()) {
		r.fail("array of %d elements in %d bytes", n, r.rd.Len())
	}
	if r.err != nil {
		return 0
	}
	return n
}

// key consumes the map key want, which must come next. Keys are short
// ASCII, so their canonical form is a fixstr; matching the bytes in place
// spares the decoder (and an allocation) for every key.
func (r *reader) key(want string) {
	if r.err != nil {
		return
	}
	b := r.b[len(r.b)-r.rd.Len():]
	if len(b) < 1+len(want) || b[0] != 0xa0|byte(len(want)) || string(b[1:1+len(want)]) != want {
		r.fail("key %q expected at byte %d", want, len(r.b)-len(b))
		return
	}
	_, _ = r.rd.Seek(int64(1+len(want)), io.SeekCurrent)
}

func (r *reader) str() string {
	if r.err != nil {
		return ""
	}
	if err := r.fits(); err != nil {
		r.wrap(err)
		return ""
	}
	s, err := r.dec.DecodeString()
	r.wrap(err)
	return s
}

func (r *reader) uint() uint64 {
	if r.err != nil {
		return 0
	}
	n, err := r.dec.DecodeUint64()
	r.wrap(err)
	return n
}

// bin reads a bin straight from the payload (only bin is canonical for
// bytes). It copies unless the reader aliases, as Verify's does: its
// events live only as long as the payload.
func (r *reader) bin() []byte {
	if r.err != nil {
		return nil
	}
	b := r.b[len(r.b)-r.rd.Len():]
	var n, hdr int
	switch {
	case len(b) >= 2 && b[0] == 0xc4:
		n, hdr = int(b[1]), 2
	case len(b) >= 3 && b[0] == 0xc5:
		n, hdr = int(b[1])<<8|int(b[2]), 3
	case len(b) >= 5 && b[0] == 0xc6:
		n, hdr = int(b[1])<<24|int(b[2])<<16|int(b[3])<<8|int(b[4]), 5
	default:
		r.fail("bin expected at byte %d", len(r.b)-len(b))
		return nil
	}
	if n > len(b)-hdr {
		r.fail("%d-byte bin in %d bytes", n, len(b)-hdr)
		return nil
	}
	_, _ = r.rd.Seek(int64(hdr+n), io.SeekCurrent)
	v := b[hdr : hdr+n : hdr+n]
	if r.alias || n == 0 {
		return v
	}
	return bytes.Clone(v)
}

func (r *reader) hash() Hash {
	var h Hash
	if b := r.bin(); r.err == nil {
		if len(b) != len(h) {
			r.fail("hash of %d bytes, want %d", len(b), len(h))
		}
		copy(h[:], b)
	}
	return h
}

// fits checks that the str or bin at the read position is no longer than
// the bytes left, before the decoder allocates for it. The decoder reads
// straight from rd (a bytes.Reader is a ByteScanner), so the position is
// exact.
func (r *reader) fits() error {
	b := r.b[len(r.b)-r.rd.Len():]
	if len(b) == 0 {
		return nil // the decoder reports the end of input
	}
	var n, hdr int
	switch c := b[0]; {
	case c >= 0xa0 && c <= 0xbf: // fixstr
		n, hdr = int(c&0x1f), 1
	case (c == 0xd9 || c == 0xc4) && len(b) >= 2: // str8, bin8
		n, hdr = int(b[1]), 2
	case (c == 0xda || c == 0xc5) && len(b) >= 3: // str16, bin16
		n, hdr = int(b[1])<<8|int(b[2]), 3
	case (c == 0xdb || c == 0xc6) && len(b) >= 5: // str32, bin32
		n, hdr = int(b[1])<<24|int(b[2])<<16|int(b[3])<<8|int(b[4]), 5
	}
	if n > len(b)-hdr {
		return fmt.Errorf("%w: %d-byte string in %d bytes", ErrMalformed, n, len(b)-hdr)
	}
	return nil
}

func (b *Spawn) encode(w *writer) {
	w.mapLen(3)
	w.key("module")
	w.hash(b.Module)
	w.key("manifest")
	w.bin(b.Manifest)
	w.key("state")
	w.bin(b.State)
}

func (b *Spawn) decode(r *reader) {
	r.mapLen(3)
	r.key("module")
	b.Module = r.hash()
	r.key("manifest")
	b.Manifest = r.bin()
	r.key("state")
	b.State = r.bin()
}

func (b *Handled) encode(w *writer) {
	w.mapLen(9)
	w.key("call")
	w.call(b.Call)
	w.key("from")
	if b.From == "" {
		w.str("")
	} else {
		w.id("sender", b.From)
	}
	w.key("msg_id")
	w.str(b.MsgID)
	w.key("mailbox_seq")
	w.uint(b.MailboxSeq)
	w.key("payload")
	w.bin(b.Payload)
	w.key("inputs")
	w.arrayLen(len(b.Inputs))
	for _, in := range b.Inputs {
		w.mapLen(2)
		w.key("call")
		w.str(in.Call)
		w.key("data")
		w.bin(in.Data)
	}
	w.key("state")
	w.hash(b.State)
	w.key("reply")
	w.bin(b.Reply)
	w.key("out")
	w.arrayLen(len(b.Out))
	for _, o := range b.Out {
		w.mapLen(2)
		w.key("to")
		w.id("receiver", o.To)
		w.key("payload")
		w.bin(o.Payload)
	}
}

func (b *Handled) decode(r *reader) {
	r.mapLen(9)
	r.key("call")
	b.Call = Call(r.str())
	r.key("from")
	b.From = r.str()
	r.key("msg_id")
	b.MsgID = r.str()
	r.key("mailbox_seq")
	b.MailboxSeq = r.uint()
	r.key("payload")
	b.Payload = r.bin()
	r.key("inputs")
	if n := r.arrayLen(); n > 0 {
		b.Inputs = make([]Input, n)
		for i := range b.Inputs {
			r.mapLen(2)
			r.key("call")
			b.Inputs[i].Call = r.str()
			r.key("data")
			b.Inputs[i].Data = r.bin()
		}
	}
	r.key("state")
	b.State = r.hash()
	r.key("reply")
	b.Reply = r.bin()
	r.key("out")
	if n := r.arrayLen(); n > 0 {
		b.Out = make([]Outgoing, n)
		for i := range b.Out {
			r.mapLen(2)
			r.key("to")
			b.Out[i].To = r.str()
			r.key("payload")
			b.Out[i].Payload = r.bin()
		}
	}
}

func (b *Failure) encode(w *writer) {
	w.mapLen(5)
	w.key("reason")
	w.str(b.Reason)
	w.key("call")
	w.call(b.Call)
	w.key("detail")
	w.str(b.Detail)
	w.key("msg_id")
	w.str(b.MsgID)
	w.key("mailbox_seq")
	w.uint(b.MailboxSeq)
}

func (b *Failure) decode(r *reader) {
	r.mapLen(5)
	r.key("reason")
	b.Reason = r.str()
	r.key("call")
	b.Call = Call(r.str())
	r.key("detail")
	b.Detail = r.str()
	r.key("msg_id")
	b.MsgID = r.str()
	r.key("mailbox_seq")
	b.MailboxSeq = r.uint()
}

func (b *Restart) encode(w *writer) {
	w.mapLen(2)
	w.key("reason")
	w.str(b.Reason)
	w.key("state")
	w.hash(b.State)
}

func (b *Restart) decode(r *reader) {
	r.mapLen(2)
	r.key("reason")
	b.Reason = r.str()
	r.key("state")
	b.State = r.hash()
}

func (b *Stop) encode(w *writer) {
	w.mapLen(1)
	w.key("reason")
	w.str(b.Reason)
}

func (b *Stop) decode(r *reader) {
	r.mapLen(1)
	r.key("reason")
	b.Reason = r.str()
}

func (b *Snapshot) encode(w *writer) {
	w.mapLen(1)
	w.key("state")
	w.bin(b.State)
}

func (b *Snapshot) decode(r *reader) {
	r.mapLen(1)
	r.key("state")
	b.State = r.bin()
}

func (b *Owner) encode(w *writer) {
	w.mapLen(2)
	w.key("node")
	w.id("node", b.Node)
	w.key("incarnation")
	w.str(b.Incarnation)
}

func (b *Owner) decode(r *reader) {
	r.mapLen(2)
	r.key("node")
	b.Node = r.str()
	r.key("incarnation")
	b.Incarnation = r.str()
}

// Lifecycle fields are written in byte order of their keys, the one
// canonical order of a map.
func (b *Lifecycle) encode(w *writer) {
	w.mapLen(2)
	w.key("what")
	w.str(b.What)
	w.key("fields")
	keys := make([]string, 0, len(b.Fields))
	for k := range b.Fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	w.mapLen(len(keys))
	for _, k := range keys {
		w.str(k)
		w.str(b.Fields[k])
	}
}

func (b *Lifecycle) decode(r *reader) {
	r.mapLen(2)
	r.key("what")
	b.What = r.str()
	r.key("fields")
	if r.err != nil {
		return
	}
	n, err := r.dec.DecodeMapLen()
	r.wrap(err)
	if r.err == nil && (n < 0 || 2*n > r.rd.Len()) {
		r.fail("map of %d entries in %d bytes", n, r.rd.Len())
	}
	if r.err != nil || n <= 0 {
		return
	}
	b.Fields = make(map[string]string, n)
	for range n {
		k := r.str()
		if _, dup := b.Fields[k]; dup && r.err == nil {
			r.fail("field %.40q twice", k)
		}
		b.Fields[k] = r.str()
	}
}
