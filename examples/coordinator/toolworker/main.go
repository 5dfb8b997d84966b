// Command toolworker is the coordinator example's tool worker
// ([coordinator.Worker]): a job's output is what the HTTP tool at the
// config value tool_url answers when the input is posted to it, through
// http-client.
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o examples/coordinator/toolworker.wasm ./examples/coordinator/toolworker
package main

import (
	"strconv"

	"github.com/theater-go/theater/actor/guest"
	"github.com/theater-go/theater/examples/coordinator"
)

func init() {
	guest.Handle(guest.Handlers{Init: coordinator.StartWorker, Send: coordinator.Worker(callTool)})
}

func main() {}

// callTool posts input to the tool; a failure is the job's output.
func callTool(input string) string {
	url, err := guest.Config("tool_url")
	if err != nil {
		return err.Error()
	}
	resp, err := guest.HTTPSend(guest.HTTPRequest{Method: "POST", URL: url, Body: []byte(input),
		Headers: []guest.HTTPHeader{{Name: "Content-Type", Value: "text/plain"}}})
	if err != nil {
		return err.Error()
	}
	if resp.Status != 200 {
		return "tool answered " + strconv.Itoa(int(resp.Status))
	}
	return string(resp.Body)
}
