// Command server serves the coordinator example's HTTP tool: POST / with a
// text body answers "<n> bytes, sha256 <first 12 hex digits>" (what the
// tool worker returns as its result).
//
//	go run ./examples/coordinator/tool/server -addr 127.0.0.1:8099
package main

import (
	"flag"
	"log"
	"net/http"

	"github.com/theater-go/theater/examples/coordinator/tool"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8099", "listen address")
	flag.Parse()
	log.Printf("tool listening on http://%s/", *addr)
	log.Fatal(http.ListenAndServe(*addr, tool.Handler()))
}
