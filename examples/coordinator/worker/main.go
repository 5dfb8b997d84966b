// Command worker is the coordinator example's calc worker
// ([coordinator.Worker]): a job's output is its input in upper case,
// with its word count.
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o examples/coordinator/worker.wasm ./examples/coordinator/worker
package main

import (
	"strconv"
	"strings"

	"github.com/theater-go/theater/actor/guest"
	"github.com/theater-go/theater/examples/coordinator"
)

func init() {
	guest.Handle(guest.Handlers{Init: coordinator.StartWorker, Send: coordinator.Worker(calc)})
}

func main() {}

func calc(input string) string {
	return strings.ToUpper(input) + " (" + strconv.Itoa(len(strings.Fields(input))) + " words)"
}
