package chain

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
)

// Record is one stored message of an actor's chain subject, as read from
// the stream: its stream sequence, headers and payload.
type Record struct {
	StreamSeq uint64
	Header    map[string][]string
	Data      []byte
}

// Problem classifies a [Finding].
type Problem string

// The problems [Verifier] reports.
const (
	// Modified: the event's bytes are not what was appended: it does not
	// decode, its headers disagree with its payload, its hash is not the
	// parent recorded by the next event, or not the expected head's.
	Modified Problem = "modified"
	// Removed: no event with this sequence is stored, though later ones
	// are.
	Removed Problem = "removed"
	// Reordered: the event is intact but stored after an event that
	// follows it in the chain.
	Reordered Problem = "reordered"
	// Inserted: an event that is not part of the chain: a second event
	// claiming a sequence, another actor's event, or bytes that name no
	// sequence at all.
	Inserted Problem = "inserted"
	// Truncated: the chain ends before the expected head.
	Truncated Problem = "truncated"
	// Inconsistent: the event is intact and linked, but says something
	// the events before it contradict: a snapshot whose state is not the
	// state the last handled (or spawn) event before it records. Restore
	// starts from the last snapshot, so a forged one would set the state.
	Inconsistent Problem = "inconsistent"
)

// Finding is one thing wrong with a chain.
type Finding struct {
	// Seq is the chain sequence the finding is about (0 if the stored
	// message names none).
	Seq uint64
	// StreamSeq is where the message is stored; 0 for an event that is
	// missing.
	StreamSeq uint64
	Problem   Problem
	Detail    string
}

func (f Finding) String() string {
	if f.StreamSeq == 0 {
		return fmt.Sprintf("event %d: %s: %s", f.Seq, f.Problem, f.Detail)
	}
	return fmt.Sprintf("event %d (stream seq %d): %s: %s", f.Seq, f.StreamSeq, f.Problem, f.Detail)
}

// Report is the outcome of verifying one chain.
type Report struct {
	Actor string
	// Records is how many stored messages were read, Events how many
	// events they held (more when some were frames).
	Records, Events int
	// Head is the last event of the chain as stored.
	Head Head
	// Findings lists every problem, by sequence; empty when the chain
	// verifies.
	Findings []Finding
}

// OK reports whether the chain verified without findings.
func (r *Report) OK() bool { return len(r.Findings) == 0 }

// maxGapFindings is the longest run of missing events listed one by one;
// a longer run (a forged event claiming a huge sequence, say) is one
// finding, so a report stays small.
const maxGapFindings = 100

// Verifier checks one actor's chain from its stored messages, fed in
// stream order with [Verifier.Add]. It keeps about 100 bytes per event,
// not the payloads.
type Verifier struct {
	actor   string
	expect  Head
	entries []entry
	msgs    int32 // messages added
}

type entry struct {
	streamSeq uint64
	msg       int32 // which stored message (the events of a frame share it)
	seq       uint64
	hash      Hash
	parent    Hash
	problem   Problem // set when the stored message is damaged or foreign
	detail    string
	// kind and state (the hash of the state a spawn, handled or snapshot
	// event gives the actor) feed the consistency check.
	kind  Kind
	state Hash
}

// NewVerifier returns a verifier of actor's chain. When the caller knows
// the head the chain must reach (from its own records, say), expect is
// it and a shorter or different chain is reported; the zero Head expects
// nothing.
func NewVerifier(actor string, expect Head) *Verifier {
	return &Verifier{actor: actor, expect: expect}
}

// Verify checks records, in stream order, as one call.
func Verify(actor string, expect Head, records []Record) Report {
	v := NewVerifier(actor, expect)
	for _, r := range records {
		v.Add(r)
	}
	return v.Report()
}

func header(h map[string][]string, k string) (string, bool) {
	if vs := h[k]; len(vs) > 0 {
		return vs[0], true
	}
	return "", false
}

// Add checks one stored message: that its payload decodes, belongs to
// the actor, and that its headers agree with it. A frame (several
// events in one message, [IsFrame]) adds each of its events, and its
// headers must agree with the events it holds.
func (v *Verifier) Add(r Record) {
	msg := v.msgs
	v.msgs++
	if IsFrame(r.Data) {
		v.addFrame(r, msg)
		return
	}
	e := v.event(r.StreamSeq, msg, r.Data)
	switch {
	case e.seq == 0:
		if s, ok := header(r.Header, HeaderSeq); ok {
			e.seq, _ = strconv.ParseUint(s, 10, 64)
		}
		if e.seq == 0 {
			e.problem, e.detail = Inserted, "neither payload nor header names a sequence: "+e.detail
		}
	case e.problem == "":
		e.problem, e.detail = checkHeaders(r.Header, &e)
	}
	v.entries = append(v.entries, e)
}

// event decodes one event's payload into an entry. One that does not
// decode is modified and names no sequence (seq 0).
func (v *Verifier) event(streamSeq uint64, msg int32, payload []byte) entry {
	e := entry{streamSeq: streamSeq, msg: msg, hash: Sum(payload)}
	ev, err := decode(payload, true)
	switch {
	case err != nil:
		e.problem, e.detail = Modified, "payload: "+err.Error()
	case ev.Actor != v.actor:
		e.seq = ev.Seq
		e.problem, e.detail = Inserted, fmt.Sprintf("an event of actor %q", ev.Actor)
	default:
		e.seq, e.parent, e.kind = ev.Seq, ev.Parent, ev.Kind()
		switch b := ev.Body.(type) {
		case *Spawn:
			e.state = Sum(b.State)
		case *Snapshot:
			e.state = Sum(b.State)
		case *Handled:
			e.state = b.State
		}
	}
	return e
}

// maxFrameGuess bounds the events a frame that does not decode is taken
// to hold (by its headers), so a forged header cannot make a report huge.
const maxFrameGuess = 1000

// addFrame adds the events of a frame. An event inside that does not
// decode is placed after the one before it (or at the frame's first
// sequence); a frame that does not split into events is modified at
// every sequence its headers claim.
func (v *Verifier) addFrame(r Record, msg int32) {
	first, _ := headerUint(r.Header, HeaderSeq)
	ps, err := Payloads(r.Data)
	if err != nil {
		e := entry{streamSeq: r.StreamSeq, msg: msg, hash: Sum(r.Data), seq: first, problem: Modified, detail: "frame: " + err.Error()}
		if first == 0 {
			e.problem, e.detail = Inserted, "neither frame nor header names a sequence: "+err.Error()
			v.entries = append(v.entries, e)
			return
		}
		last, _ := headerUint(r.Header, HeaderLastSeq)
		last = max(first, min(last, first+maxFrameGuess-1))
		for s := first; s <= last; s++ {
			e.seq = s
			v.entries = append(v.entries, e)
		}
		return
	}
	es := make([]entry, len(ps))
	for i, p := range ps {
		es[i] = v.event(r.StreamSeq, msg, p)
		if es[i].seq == 0 {
			if i > 0 && es[i-1].seq > 0 {
				es[i].seq = es[i-1].seq + 1
			} else {
				es[i].seq = first
			}
			if es[i].seq == 0 {
				es[i].problem, es[i].detail = Inserted, "neither payload nor frame header names a sequence: "+es[i].detail
			}
		}
	}
	// The frame's headers describe its first and last events.
	head, tail := &es[0], &es[len(es)-1]
	checks := [...]struct {
		e         *entry
		key, want string
	}{
		{head, HeaderKind, FrameKind},
		{head, HeaderSeq, strconv.FormatUint(head.seq, 10)},
		{head, HeaderEvents, strconv.Itoa(len(es))},
		{tail, HeaderLastSeq, strconv.FormatUint(tail.seq, 10)},
		{tail, HeaderHash, tail.hash.String()},
	}
	for _, c := range checks {
		if c.e.problem != "" {
			continue
		}
		got, ok := header(r.Header, c.key)
		switch {
		case !ok:
			c.e.problem, c.e.detail = Modified, "frame header "+c.key+" is missing"
		case got != c.want:
			c.e.problem, c.e.detail = Modified, fmt.Sprintf("frame header %s is %.70q, the frame holds %q", c.key, got, c.want)
		}
	}
	v.entries = append(v.entries, es...)
}

func headerUint(h map[string][]string, k string) (uint64, bool) {
	s, ok := header(h, k)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil
}

func checkHeaders(h map[string][]string, e *entry) (Problem, string) {
	want := [...][2]string{
		{HeaderKind, string(e.kind)},
		{HeaderSeq, strconv.FormatUint(e.seq, 10)},
		{HeaderHash, e.hash.String()},
	}
	for _, w := range want {
		got, ok := header(h, w[0])
		if !ok {
			return Modified, "header " + w[0] + " is missing"
		}
		if got != w[1] {
			return Modified, fmt.Sprintf("header %s is %.70q, the payload says %q", w[0], got, w[1])
		}
	}
	return "", ""
}

// Report links the events read so far and returns every finding.
func (v *Verifier) Report() Report {
	rep := Report{Actor: v.actor, Records: int(v.msgs), Events: len(v.entries)}
	es := v.entries
	found := map[uint64]Problem{} // seq -> problem already reported for the chosen event
	add := func(f Finding) {
		rep.Findings = append(rep.Findings, f)
	}

	// Order positions by (seq, stream order). Stored in order, this is
	// already sorted, and the sort sees that in one pass.
	idx := make([]int32, 0, len(es))
	for i := range es {
		if es[i].seq == 0 || (es[i].problem == Inserted) {
			add(Finding{Seq: es[i].seq, StreamSeq: es[i].streamSeq, Problem: Inserted, Detail: es[i].detail})
			continue
		}
		idx = append(idx, int32(i))
	}
	slices.SortStableFunc(idx, func(a, b int32) int { return cmp.Compare(es[a].seq, es[b].seq) })

	// Split into groups claiming one sequence each, and choose the
	// candidate that links best in every group.
	type group struct {
		seq   uint64
		cands []int32
	}
	var groups []group
	for i := 0; i < len(idx); {
		j := i + 1
		for j < len(idx) && es[idx[j]].seq == es[idx[i]].seq {
			j++
		}
		groups = append(groups, group{seq: es[idx[i]].seq, cands: idx[i:j]})
		i = j
	}
	chosen := make([]int32, len(groups))
	for gi, g := range groups {
		if len(g.cands) == 1 {
			chosen[gi] = g.cands[0]
			continue
		}
		var prev, next []int32
		if gi > 0 && groups[gi-1].seq == g.seq-1 {
			prev = groups[gi-1].cands
		}
		if gi+1 < len(groups) && groups[gi+1].seq == g.seq+1 {
			next = groups[gi+1].cands
		}
		best, bestScore := g.cands[0], -1
		for _, c := range g.cands {
			score := 0
			if es[c].problem == "" {
				score += 4
			}
			if slices.ContainsFunc(next, func(n int32) bool { return es[n].parent == es[c].hash }) ||
				(g.seq == v.expect.Seq && es[c].hash == v.expect.Hash) {
				score += 2
			}
			if (g.seq == 1 && es[c].parent.IsZero()) ||
				slices.ContainsFunc(prev, func(p int32) bool { return es[p].hash == es[c].parent }) {
				score++
			}
			if score > bestScore {
				best, bestScore = c, score
			}
		}
		chosen[gi] = best
		for _, c := range g.cands {
			if c == best {
				continue
			}
			d := "a second event claiming this sequence"
			if es[c].detail != "" {
				d += " (" + es[c].detail + ")"
			}
			add(Finding{Seq: g.seq, StreamSeq: es[c].streamSeq, Problem: Inserted, Detail: d})
		}
	}

	// Damaged chosen events, gaps, and broken links.
	for gi := range groups {
		c := &es[chosen[gi]]
		if c.problem != "" {
			add(Finding{Seq: c.seq, StreamSeq: c.streamSeq, Problem: c.problem, Detail: c.detail})
			found[c.seq] = c.problem
		}
	}
	var expectSeq uint64 = 1
	for gi := range groups {
		s := groups[gi].seq
		if s > expectSeq {
			if s-expectSeq > maxGapFindings {
				add(Finding{Seq: expectSeq, Problem: Removed, Detail: fmt.Sprintf("events %d to %d are missing", expectSeq, s-1)})
			} else {
				for m := expectSeq; m < s; m++ {
					add(Finding{Seq: m, Problem: Removed, Detail: "no event with this sequence is stored"})
				}
			}
		}
		expectSeq = s + 1
	}
	linked := func(gi int) bool { // does groups[gi] link to the event before it?
		c := &es[chosen[gi]]
		if groups[gi].seq == 1 {
			return c.parent.IsZero()
		}
		if gi == 0 || groups[gi-1].seq != groups[gi].seq-1 {
			return true // across a gap: reported as removed
		}
		return c.parent == es[chosen[gi-1]].hash
	}
	for gi := 0; gi < len(groups); gi++ {
		if linked(gi) {
			continue
		}
		c := &es[chosen[gi]]
		if groups[gi].seq == 1 {
			if found[1] == "" {
				add(Finding{Seq: 1, StreamSeq: c.streamSeq, Problem: Modified, Detail: "the first event has a parent"})
				found[1] = Modified
			}
			continue
		}
		p := &es[chosen[gi-1]]
		// One changed parent field breaks the links on both sides of its
		// event; one changed event otherwise breaks only the link after
		// it. Report the one event that explains what is broken.
		if gi+1 < len(groups) && groups[gi+1].seq == c.seq+1 && !linked(gi+1) {
			if found[c.seq] == "" {
				add(Finding{Seq: c.seq, StreamSeq: c.streamSeq, Problem: Modified,
					Detail: fmt.Sprintf("its parent is not event %d's hash and its hash is not event %d's parent", p.seq, c.seq+1)})
				found[c.seq] = Modified
			}
			gi++
			continue
		}
		if found[p.seq] == "" {
			add(Finding{Seq: p.seq, StreamSeq: p.streamSeq, Problem: Modified,
				Detail: fmt.Sprintf("its hash %s is not the parent event %d records", p.hash, c.seq)})
			found[p.seq] = Modified
		}
	}

	// Consistency: each snapshot holds the state the chain reached.
	var state Hash
	known := false
	for gi := range groups {
		c := &es[chosen[gi]]
		if found[c.seq] != "" || (gi > 0 && groups[gi-1].seq != c.seq-1) {
			known = false // what came before is not known
		}
		switch c.kind {
		case KindSnapshot:
			if known && c.state != state && found[c.seq] == "" {
				add(Finding{Seq: c.seq, StreamSeq: c.streamSeq, Problem: Inconsistent,
					Detail: fmt.Sprintf("the snapshot holds state %s; the events before it reach %s", c.state, state)})
				found[c.seq] = Inconsistent
			}
			fallthrough
		case KindSpawn, KindHandled:
			state, known = c.state, found[c.seq] == ""
		}
	}

	// Truncation and the expected head.
	if len(groups) > 0 {
		last := &es[chosen[len(groups)-1]]
		rep.Head = Head{Seq: last.seq, Hash: last.hash}
	}
	if v.expect.Seq > 0 {
		switch {
		case rep.Head.Seq < v.expect.Seq:
			add(Finding{Seq: rep.Head.Seq + 1, Problem: Truncated,
				Detail: fmt.Sprintf("the chain ends at event %d; the expected head is event %d", rep.Head.Seq, v.expect.Seq)})
		default:
			gi, _ := slices.BinarySearchFunc(groups, v.expect.Seq, func(g group, s uint64) int { return cmp.Compare(g.seq, s) })
			if gi < len(groups) && groups[gi].seq == v.expect.Seq {
				c := &es[chosen[gi]]
				if c.hash != v.expect.Hash && found[c.seq] == "" {
					add(Finding{Seq: c.seq, StreamSeq: c.streamSeq, Problem: Modified,
						Detail: fmt.Sprintf("its hash %s is not the expected head's %s", c.hash, v.expect.Hash)})
					found[c.seq] = Modified
				}
			}
		}
	}

	// Order: the chosen events, in stream order, should have rising
	// sequences. The longest rising run stays; every other event was
	// moved. A changed event is left out: it is stored anew, at the end,
	// so its move is part of the change, and so is the move of every
	// event of a frame that holds a changed one.
	changed := map[int32]bool{} // messages holding a changed event
	for _, i := range chosen {
		if found[es[i].seq] != "" {
			changed[es[i].msg] = true
		}
	}
	order := make([]int32, 0, len(chosen))
	for _, i := range chosen {
		if !changed[es[i].msg] {
			order = append(order, i)
		}
	}
	slices.Sort(order) // positions in stream order
	for _, i := range outOfOrder(es, order) {
		c := &es[i]
		add(Finding{Seq: c.seq, StreamSeq: c.streamSeq, Problem: Reordered, Detail: "stored after events that follow it"})
	}

	slices.SortStableFunc(rep.Findings, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(a.Seq, b.Seq), cmp.Compare(a.StreamSeq, b.StreamSeq))
	})
	return rep
}

// outOfOrder returns the positions in order (stream order) that are not
// on a longest run of rising sequences.
func outOfOrder(es []entry, order []int32) []int32 {
	rising := true
	for k := 1; k < len(order); k++ {
		if es[order[k]].seq <= es[order[k-1]].seq {
			rising = false
			break
		}
	}
	if rising {
		return nil
	}
	// Patience sorting with back links: tails[l] is the index in order of
	// the smallest last element of a rising run of length l+1.
	tails := []int{}
	back := make([]int, len(order))
	for k, i := range order {
		s := es[i].seq
		l, _ := slices.BinarySearchFunc(tails, s, func(t int, s uint64) int { return cmp.Compare(es[order[t]].seq, s) })
		if l > 0 {
			back[k] = tails[l-1]
		} else {
			back[k] = -1
		}
		if l == len(tails) {
			tails = append(tails, k)
		} else {
			tails[l] = k
		}
	}
	keep := make([]bool, len(order))
	for k := tails[len(tails)-1]; k >= 0; k = back[k] {
		keep[k] = true
	}
	var out []int32
	for k, i := range order {
		if !keep[k] {
			out = append(out, i)
		}
	}
	return out
}
