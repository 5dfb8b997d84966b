package transport_test

import (
	"fmt"

	"github.com/theater-go/theater/transport"
)

func ExampleLayout() {
	l, err := transport.NewLayout("theater")
	if err != nil {
		panic(err)
	}
	id := "billing-agent"
	if err := transport.ValidID(id); err != nil {
		panic(err)
	}
	fmt.Println(l.SendSubject(id))
	fmt.Println(l.RequestSubject(id))
	fmt.Println(l.EventSubject(id, "started"))
	fmt.Println(l.ChainSubject(id))
	fmt.Println(l.MailboxStream(), l.ChainStream(), l.EventsStream())
	fmt.Println(l.ActorsBucket(), l.NodesBucket(), l.ModulesStore())
	// Output:
	// theater.actor.billing-agent.send
	// theater.actor.billing-agent.req
	// theater.events.billing-agent.started
	// theater.chain.billing-agent
	// theater_mailbox theater_chain theater_events
	// theater_actors theater_nodes theater_modules
}

func ExampleValidID() {
	fmt.Println(transport.ValidID("worker-7"))
	fmt.Println(transport.ValidID("orders.eu"))
	// Output:
	// <nil>
	// transport: id "orders.eu": '.' at byte 6 is not allowed (use letters, digits, '-' and '_')
}
