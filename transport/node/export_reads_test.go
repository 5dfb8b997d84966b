package node

import "github.com/nats-io/nats.go/jetstream"

// ReadMailbox reads actor id's stored sends from mailbox sequence from
// through the node's shared reply subscription, as a pump does, at most
// batch of them, stopping after stopAfter (0: never); it returns their
// sequences.
func ReadMailbox(n *Node, id string, from uint64, batch, stopAfter int) ([]uint64, error) {
	var seqs []uint64
	l := n.cfg.Layout
	_, err := n.reads.get(n.ctx, n.nc, l.MailboxStream(), l.SendSubject(id), from, batch, func(m *jetstream.RawStreamMsg) bool {
		seqs = append(seqs, m.Sequence)
		return stopAfter == 0 || len(seqs) < stopAfter
	})
	return seqs, err
}

// ErrStopRead is errStopRead, for the tests of ReadMailbox.
var ErrStopRead = errStopRead

// Subscriptions is how many subscriptions the node's connection has.
func Subscriptions(n *Node) int { return n.nc.NumSubscriptions() }
