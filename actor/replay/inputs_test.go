package replay

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/theater-go/theater/actor"
)

// requestOutcomes are router answers of every class the host tells apart.
var requestOutcomes = []struct {
	reply []byte
	err   error
}{
	{reply: []byte{}},
	{reply: []byte{0x93, 1, 2, 3}},
	{err: fmt.Errorf("%w: %q", actor.ErrUnknownActor, "peer")},
	{err: actor.ErrDenied},
	{err: fmt.Errorf("%w: field \"n\": expected u32", actor.ErrInvalidMessage)},
	{err: &actor.TooLargeError{Size: 2000, Limit: 1000}},
	{err: fmt.Errorf("node: %w", actor.ErrTooLarge)},
	{err: fmt.Errorf("request: %w", context.DeadlineExceeded)},
	{err: errors.New("peer failed: trap")},
	{err: context.Canceled},
}

// TestRequestRoundTrip: every outcome's record decodes to itself, and the
// answer replay gives for it is classified, as the host classifies it for
// the guest, into the same record: the guest sees the same variant.
func TestRequestRoundTrip(t *testing.T) {
	for _, tc := range requestOutcomes {
		r := resultOf(tc.reply, tc.err)
		data := r.encode("peer")
		to, got, err := decodeRequest(data)
		if err != nil || to != "peer" {
			t.Fatalf("%v: decode %x: %q, %v", tc.err, data, to, err)
		}
		if again := got.encode(to); !bytes.Equal(again, data) {
			t.Errorf("%v: re-encoded %x, want %x", tc.err, again, data)
		}
		reply, aerr := got.answer()
		if replayed := resultOf(reply, aerr).encode(to); !bytes.Equal(replayed, data) {
			t.Errorf("%v: replay answers %v, recorded as %x, want %x", tc.err, aerr, replayed, data)
		}
		if (tc.err == nil) != (aerr == nil) || !bytes.Equal(reply, tc.reply) {
			t.Errorf("%v: replay answers %x, %v", tc.err, reply, aerr)
		}
	}
}

func TestClockRoundTrip(t *testing.T) {
	for _, ns := range []int64{0, 1, 127, 128, -1, -33, 1 << 40, -(1 << 62), 1_956_000_000_000_000_000} {
		data := encodeClock(ns)
		got, err := decodeClock(data)
		if err != nil || got != ns {
			t.Errorf("%d: encoded %x, decoded %d, %v", ns, data, got, err)
		}
	}
	for _, bad := range [][]byte{nil, {0xc0}, {0xd3, 0, 0, 0, 0, 0, 0, 0, 1}, {0x01, 0x01}, {0xa1, 'x'}} {
		if _, err := decodeClock(bad); !errors.Is(err, ErrMalformedInput) {
			t.Errorf("%x: %v, want ErrMalformedInput", bad, err)
		}
	}
}

// FuzzDecodeRequest: any Data replay accepts is in its one encoding, and
// the answer replay gives for it is recorded as the same Data again.
func FuzzDecodeRequest(f *testing.F) {
	for _, tc := range requestOutcomes {
		f.Add(resultOf(tc.reply, tc.err).encode("peer"))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		to, r, err := decodeRequest(data)
		if err != nil {
			if !errors.Is(err, ErrMalformedInput) {
				t.Fatalf("error %v does not wrap ErrMalformedInput", err)
			}
			return
		}
		if again := r.encode(to); !bytes.Equal(again, data) {
			t.Fatalf("accepted %x, re-encoded %x", data, again)
		}
		reply, aerr := r.answer()
		if replayed := resultOf(reply, aerr).encode(to); !bytes.Equal(replayed, data) {
			t.Fatalf("accepted %x, its answer %v records as %x", data, aerr, replayed)
		}
	})
}

// FuzzDecodeClock: an accepted clock input is one int in its smallest form.
func FuzzDecodeClock(f *testing.F) {
	for _, ns := range []int64{0, -1, 1 << 40} {
		f.Add(encodeClock(ns))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ns, err := decodeClock(data)
		if err != nil {
			if !errors.Is(err, ErrMalformedInput) {
				t.Fatalf("error %v does not wrap ErrMalformedInput", err)
			}
			return
		}
		if again := encodeClock(ns); !bytes.Equal(again, data) {
			t.Fatalf("accepted %x as %d, which encodes as %x", data, ns, again)
		}
	})
}
