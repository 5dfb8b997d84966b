package actor_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/theater-go/theater/actor"
)

// A store's writes take conditions: create-only, then compare-and-set on
// the revision a get returned.
func ExampleNewMemoryStore() {
	ctx := context.Background()
	s := actor.NewMemoryStore()
	ns := actor.OwnStoreNamespace("notes")
	_ = s.Write(ctx, actor.StoreWrite{Namespace: ns, Key: "plan", Value: []byte("draft"), Cond: actor.StoreCondition{Kind: actor.StoreAbsent}})
	e, _, _ := s.Get(ctx, ns, "plan")
	err := s.Write(ctx, actor.StoreWrite{Namespace: ns, Key: "plan", Value: []byte("again"), Cond: actor.StoreCondition{Kind: actor.StoreAbsent}})
	var c *actor.StoreConflict
	fmt.Println(string(e.Value), e.Revision, errors.As(err, &c), c.Revision)
	err = s.Write(ctx, actor.StoreWrite{Namespace: ns, Key: "plan", Value: []byte("final"),
		Cond: actor.StoreCondition{Kind: actor.StoreIfRevision, Revision: e.Revision}})
	e, _, _ = s.Get(ctx, ns, "plan")
	fmt.Println(err, string(e.Value), e.Revision)
	// Output:
	// draft 1 true 1
	// <nil> final 2
}
