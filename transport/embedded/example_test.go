package embedded_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/theater-go/theater/transport/embedded"
)

// A server on a free loopback port, its JetStream data in a temporary
// directory, logging nowhere.
func ExampleStart() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "embedded-example-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	srv, err := embedded.Start(ctx, embedded.Config{Listen: "127.0.0.1:0", StoreDir: dir, ServerName: "example"},
		embedded.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		panic(err)
	}
	defer srv.Shutdown(ctx)
	fmt.Println(srv.Name(), strings.HasPrefix(srv.ClientURL(), "nats://127.0.0.1:"))
	// Output:
	// example true
}
