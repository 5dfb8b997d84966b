package chain_test

import (
	"fmt"

	"github.com/theater-go/theater/actor/chain"
)

// A chain of two events: each is sealed after the head the one before
// left, and verifying the stored records finds nothing.
func Example() {
	var head chain.Head
	var records []chain.Record
	for i, body := range []chain.Body{
		&chain.Spawn{Module: chain.Sum([]byte("module bytes")), State: []byte{0}},
		&chain.Handled{Call: chain.CallSend, From: "alice", Payload: []byte{0x01}, State: chain.Sum([]byte{1})},
	} {
		s, err := chain.Seal(head.Next("counter-1", body))
		if err != nil {
			panic(err)
		}
		head = s.Head()
		records = append(records, chain.Record{StreamSeq: uint64(i + 1), Header: s.Header(), Data: s.Payload})
	}
	rep := chain.Verify("counter-1", head, records)
	fmt.Println(rep.OK(), rep.Head.Seq)

	// Remove the first event: the verifier says which one is missing.
	rep = chain.Verify("counter-1", head, records[1:])
	for _, f := range rep.Findings {
		fmt.Println(f.Seq, f.Problem)
	}
	// Output:
	// true 2
	// 1 removed
}

func ExampleMessageID() {
	fmt.Println(chain.MessageID("counter-1", 42, 0))
	// Output: counter-1:42:0
}
