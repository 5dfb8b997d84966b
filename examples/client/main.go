// Command client talks to an actor of a running Theater system, with
// nothing but the Go client: its binary holds neither nats-server nor
// wazero. It adds N to a counter and prints the total:
//
//	theater run examples/counter/counter.toml --id counter   # prints its NATS URL
//	go run ./examples/client -server nats://127.0.0.1:PORT -id counter 5
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"strconv"
	"time"

	"github.com/theater-go/theater/transport"
	"github.com/theater-go/theater/transport/client"
)

func main() {
	server := flag.String("server", "nats://127.0.0.1:4222", "NATS server URL(s)")
	id := flag.String("id", "counter", "the counter actor's id")
	flag.Parse()
	n, err := strconv.ParseUint(flag.Arg(0), 10, 32)
	if err != nil {
		log.Fatalf("usage: client [-server URL] [-id ID] N: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	nc, err := transport.Connect(ctx, transport.ClientConfig{URLs: *server, Name: "example client"})
	if err != nil {
		log.Fatal(err)
	}
	defer nc.Close()
	c, err := client.New(ctx, nc)
	if err != nil {
		log.Fatal(err)
	}
	var total uint64
	if err := c.Call(ctx, *id, uint32(n), &total); err != nil {
		log.Fatal(err)
	}
	fmt.Println("total:", total)
}
