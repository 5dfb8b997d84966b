package chain

import (
	"encoding/binary"
	"fmt"
	"strconv"
)

// A frame is one stored message holding several consecutive events of
// one chain: a group commit in one append. Each event inside keeps its
// own canonical payload and hash, so a chain's hashes do not depend on
// how its events were framed. A single event is never a frame: it is
// stored as its payload, as it always was.
//
// The frame's data is a msgpack array of at least two bin elements, each
// an event's payload, in chain order; the array and every bin in their
// smallest form (fixarray, array16, array32; bin8, bin16, bin32), and
// nothing after the array. An event payload is a map (its first byte is
// 0x86), a frame an array (0x92 to 0x9f, 0xdc or 0xdd): the first byte
// tells them apart.
const (
	// FrameKind is the [HeaderKind] of a frame.
	FrameKind = "frame"
	// HeaderLastSeq is a frame's last event's sequence; [HeaderSeq] is
	// its first's and [HeaderHash] its last's hash.
	HeaderLastSeq = "Theater-Last-Seq"
	// HeaderEvents is how many events a frame holds.
	HeaderEvents = "Theater-Events"
)

// FrameOverhead bounds what a frame adds to its payloads: the array's
// header once and a bin header per event.
const FrameOverhead = 5

// IsFrame reports whether a stored message's data is a frame (a msgpack
// array) rather than one event's payload.
func IsFrame(data []byte) bool {
	if len(data) == 0 {
		return false
	}
	c := data[0]
	return c&0xf0 == 0x90 || c == 0xdc || c == 0xdd
}

// EncodeFrame returns the frame of events, at least two, and the headers
// it is stored with.
func EncodeFrame(events []Sealed) ([]byte, map[string][]string, error) {
	if len(events) < 2 {
		return nil, nil, fmt.Errorf("%w: a frame of %d events (at least 2)", ErrInvalid, len(events))
	}
	n := 5
	for i := range events {
		n += FrameOverhead + len(events[i].Payload)
	}
	b := make([]byte, 0, n)
	switch l := len(events); {
	case l < 16:
		b = append(b, 0x90|byte(l))
	case l <= 0xffff:
		b = append(b, 0xdc, byte(l>>8), byte(l))
	default:
		b = binary.BigEndian.AppendUint32(append(b, 0xdd), uint32(l))
	}
	for i := range events {
		p := events[i].Payload
		switch l := len(p); {
		case l <= 0xff:
			b = append(b, 0xc4, byte(l))
		case l <= 0xffff:
			b = append(b, 0xc5, byte(l>>8), byte(l))
		default:
			b = binary.BigEndian.AppendUint32(append(b, 0xc6), uint32(l))
		}
		b = append(b, p...)
	}
	first, last := &events[0], &events[len(events)-1]
	h := map[string][]string{
		HeaderKind:    {FrameKind},
		HeaderSeq:     {strconv.FormatUint(first.Event.Seq, 10)},
		HeaderLastSeq: {strconv.FormatUint(last.Event.Seq, 10)},
		HeaderEvents:  {strconv.Itoa(len(events))},
		HeaderHash:    {last.Hash.String()},
	}
	return b, h, nil
}

// Payloads returns the event payloads of a stored message's data: the
// data itself for a single event, the elements of a frame (sub-slices of
// data). A frame that is not exactly in the form above is malformed;
// the payloads are not decoded.
func Payloads(data []byte) ([][]byte, error) {
	if !IsFrame(data) {
		return [][]byte{data}, nil
	}
	n, rest, err := frameLen(data)
	if err != nil {
		return nil, err
	}
	// Every element takes at least two bytes: a count the data cannot
	// hold is refused before anything is allocated for it.
	if n < 2 || n > len(rest)/2 {
		return nil, fmt.Errorf("%w: frame of %d events in %d bytes", ErrMalformed, n, len(data))
	}
	out := make([][]byte, 0, n)
	for i := range n {
		var p []byte
		if p, rest, err = frameBin(rest); err != nil {
			return nil, fmt.Errorf("%w: frame element %d: %w", ErrMalformed, i, err)
		}
		out = append(out, p)
	}
	if len(rest) > 0 {
		return nil, fmt.Errorf("%w: %d bytes after the frame", ErrMalformed, len(rest))
	}
	return out, nil
}

func frameLen(b []byte) (int, []byte, error) {
	switch c := b[0]; {
	case c&0xf0 == 0x90:
		return int(c & 0x0f), b[1:], nil
	case c == 0xdc && len(b) >= 3:
		n := int(binary.BigEndian.Uint16(b[1:]))
		if n < 16 {
			return 0, nil, fmt.Errorf("%w: frame length %d not in its smallest form", ErrMalformed, n)
		}
		return n, b[3:], nil
	case c == 0xdd && len(b) >= 5:
		n := binary.BigEndian.Uint32(b[1:])
		if n <= 0xffff {
			return 0, nil, fmt.Errorf("%w: frame length %d not in its smallest form", ErrMalformed, n)
		}
		return int(min(n, 1<<31-1)), b[5:], nil
	}
	return 0, nil, fmt.Errorf("%w: truncated frame header", ErrMalformed)
}

func frameBin(b []byte) ([]byte, []byte, error) {
	if len(b) < 2 {
		return nil, nil, fmt.Errorf("truncated")
	}
	var n, h int
	switch b[0] {
	case 0xc4:
		n, h = int(b[1]), 2
	case 0xc5:
		if len(b) < 3 {
			return nil, nil, fmt.Errorf("truncated")
		}
		n, h = int(binary.BigEndian.Uint16(b[1:])), 3
		if n <= 0xff {
			return nil, nil, fmt.Errorf("bin16 of %d bytes not in its smallest form", n)
		}
	case 0xc6:
		if len(b) < 5 {
			return nil, nil, fmt.Errorf("truncated")
		}
		n32 := binary.BigEndian.Uint32(b[1:])
		if n32 <= 0xffff {
			return nil, nil, fmt.Errorf("bin32 of %d bytes not in its smallest form", n32)
		}
		n, h = int(min(n32, 1<<31-1)), 5
	default:
		return nil, nil, fmt.Errorf("byte 0x%02x is not a bin", b[0])
	}
	if n > len(b)-h {
		return nil, nil, fmt.Errorf("bin of %d bytes, %d left", n, len(b)-h)
	}
	return b[h : h+n : h+n], b[h+n:], nil
}
