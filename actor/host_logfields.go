package actor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"unicode/utf8"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/theater-go/theater/actor/abi"
)

// maxLogFields bounds the fields of one log line.
const maxLogFields = 64

// logField is one log.field, as the guest encodes it: a msgpack map.
type logField struct {
	Key   string `msgpack:"key"`
	Value string `msgpack:"value"`
}

// decodeLogFields reads the msgpack list<log.field> of write-fields:
// at most maxLogFields maps of exactly the keys "key" and "value", in
// any order, with UTF-8 strings, and nothing after them. The lengths are
// checked before anything is allocated for them: the bytes come from a
// guest.
func decodeLogFields(b []byte) ([]logField, error) {
	r := bytes.NewReader(b) // a ByteScanner: the decoder reads it unbuffered
	d := msgpack.NewDecoder(r)
	n, err := d.DecodeArrayLen()
	if err != nil {
		return nil, err
	}
	if n < 0 || n > maxLogFields {
		return nil, fmt.Errorf("%d fields: at most %d", n, maxLogFields)
	}
	fs := make([]logField, n)
	for i := range fs {
		if m, err := d.DecodeMapLen(); err != nil || m != 2 {
			return nil, fmt.Errorf("field %d: want a map of key and value", i)
		}
		var haveKey, haveValue bool
		for range 2 {
			k, err := d.DecodeString()
			if err != nil {
				return nil, err
			}
			v, err := d.DecodeString()
			if err != nil {
				return nil, err
			}
			switch {
			case k == "key" && !haveKey:
				fs[i].Key, haveKey = v, true
			case k == "value" && !haveValue:
				fs[i].Value, haveValue = v, true
			default:
				return nil, fmt.Errorf("field %d: unexpected %q", i, k)
			}
		}
		if !utf8.ValidString(fs[i].Key) || !utf8.ValidString(fs[i].Value) {
			return nil, fmt.Errorf("field %d: not UTF-8", i)
		}
	}
	if r.Len() > 0 {
		return nil, errors.New("bytes after the fields")
	}
	return fs, nil
}

// log.write-fields(level, msg_ptr, msg_len, fields_ptr, fields_len)
func hostLogWriteFields(ctx context.Context, i *instance, stack []uint64) int32 {
	level := uint32(stack[0])
	msg, ok1 := i.bytesAt(stack[1], stack[2])
	raw, ok2 := i.bytesAt(stack[3], stack[4])
	if !ok1 || !ok2 {
		return abi.StatusFault
	}
	if level >= uint32(len(logLevels)) || !utf8.Valid(msg) {
		return abi.StatusInvalid
	}
	if len(msg)+len(raw) > i.a.spec.Limits.MaxMessageSize {
		return abi.StatusTooLarge
	}
	fs, err := decodeLogFields(raw)
	if err != nil {
		return abi.StatusInvalid
	}
	n := len(msg)
	for _, f := range fs {
		n += len(f.Key) + len(f.Value)
	}
	if !i.a.logAllowed(ctx, n) {
		return abi.StatusOK // dropped and counted
	}
	attrs := make([]slog.Attr, 0, len(fs)+1)
	attrs = append(attrs, slog.String("actor", i.a.spec.ID))
	for _, f := range fs {
		if f.Key != "" && f.Key != "actor" {
			attrs = append(attrs, slog.String(f.Key, f.Value))
		}
	}
	i.a.spec.Logger.LogAttrs(ctx, logLevels[level], string(msg), attrs...)
	return abi.StatusOK
}
