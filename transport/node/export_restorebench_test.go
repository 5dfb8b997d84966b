package node

import "context"

// Restore runs n's restore of actor id (as a takeover reads its chain),
// for the benchmark of restore time against chain length.
func Restore(ctx context.Context, n *Node, id string) error {
	_, err := n.restore(ctx, id)
	return err
}
