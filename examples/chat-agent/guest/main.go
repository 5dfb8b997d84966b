// Command guest is the chat-agent example: an agent that answers each
// request (a msgpack string, the user's message) by calling an
// OpenAI-compatible chat-completions endpoint through
// theater:actor/http-client, keeping the whole conversation in
// theater:actor/store under the key "conversation" of its own namespace.
// The endpoint URL and the model are config values of its manifest; the
// API key, when the manifest names the secret "api_key", is the node's.
// The reply is the assistant's answer (a msgpack string); the state is a
// msgpack array [turns, last answer].
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o chat.wasm ./examples/chat-agent/guest
package main

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/theater-go/theater/actor/guest"
)

func init() {
	guest.Handle(guest.Handlers{Init: start, Request: chat})
}

func main() {}

type message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

func start([]byte) ([]byte, error) { return state(0, ""), nil }

func state(turns uint64, last string) []byte {
	b := guest.AppendArrayHeader(nil, 2)
	return guest.AppendString(guest.AppendUint(b, turns), last)
}

func chat(st, msg []byte) ([]byte, []byte, error) {
	n, rest, err := guest.ReadArrayHeader(st)
	if err != nil || n != 2 {
		return nil, nil, errors.New("chat-agent: bad state")
	}
	turns, _, err := guest.ReadUint(rest)
	if err != nil {
		return nil, nil, errors.New("chat-agent: bad state")
	}
	text, _, err := guest.ReadString(msg)
	if err != nil {
		return nil, nil, errors.New("chat-agent: a request is a string")
	}
	url, err := guest.Config("url")
	if err != nil {
		return nil, nil, err
	}
	model, err := guest.Config("model")
	if err != nil {
		return nil, nil, err
	}
	// The conversation so far, and its revision for the write back.
	var conv []message
	e, found, err := guest.StoreGet("", "conversation")
	if err != nil {
		return nil, nil, err
	}
	cond := guest.Absent
	if found {
		if err := json.Unmarshal(e.Value, &conv); err != nil {
			return nil, nil, fmt.Errorf("chat-agent: stored conversation: %w", err)
		}
		cond = guest.IfRevision(e.Revision)
	}
	conv = append(conv, message{Role: "user", Content: text})
	body, _ := json.Marshal(map[string]any{"model": model, "messages": conv})
	headers := []guest.HTTPHeader{{Name: "Content-Type", Value: "application/json"}}
	if key, err := guest.Config("api_key"); err == nil {
		headers = append(headers, guest.HTTPHeader{Name: "Authorization", Value: "Bearer " + key})
	}
	resp, err := guest.HTTPSend(guest.HTTPRequest{Method: "POST", URL: url, Headers: headers, Body: body})
	if err != nil {
		return nil, nil, err
	}
	if resp.Status != 200 {
		return nil, nil, fmt.Errorf("chat-agent: the endpoint answered %d: %s", resp.Status, resp.Body)
	}
	var out struct {
		Choices []struct {
			Message message `json:"message"`
		} `json:"choices"`
	}
	if err := json.Unmarshal(resp.Body, &out); err != nil || len(out.Choices) == 0 {
		return nil, nil, fmt.Errorf("chat-agent: not a chat completion: %s", resp.Body)
	}
	answer := out.Choices[0].Message.Content
	conv = append(conv, message{Role: "assistant", Content: answer})
	saved, _ := json.Marshal(conv)
	if err := guest.StorePut("", "conversation", saved, cond); err != nil {
		return nil, nil, err
	}
	return state(turns+1, answer), guest.AppendString(nil, answer), nil
}
