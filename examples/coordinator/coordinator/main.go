// Command coordinator is the coordinator example's coordinator agent. A
// request ["submit", kind, input] publishes the job ["job", id, kind,
// input, attempt] to the topic jobs.<kind>, where a worker subscribes,
// and sets a one-shot timer retry-<id>; it answers [id]. A worker's
// ["result", id, worker, output] on the topic results completes the job
// and cancels its timer. When the timer fires first (["retry", id], a
// one-way message from itself), the job is published again, at most
// three attempts in all, then marked failed. ["status"] answers one line
// per job. Its state is a list of jobs, each [id, kind, input, status,
// attempts, worker, output], so a replay that reproduces the state has
// reproduced every decision.
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o examples/coordinator/coordinator.wasm ./examples/coordinator/coordinator
package main

import (
	"errors"
	"strconv"
	"strings"

	"github.com/theater-go/theater/actor/guest"
	"github.com/theater-go/theater/examples/coordinator"
)

// RetryMs is how long a job may take before it is published again;
// MaxAttempts how many publications a job gets.
const (
	RetryMs     = 2000
	MaxAttempts = 3
)

func init() {
	guest.Handle(guest.Handlers{Init: start, Send: onMessage, Request: onRequest})
}

func main() {}

// job is one row of the state.
type job struct{ id, kind, input, status, attempts, worker, output string }

func (j job) row() []string {
	return []string{j.id, j.kind, j.input, j.status, j.attempts, j.worker, j.output}
}

func start(st []byte) ([]byte, error) {
	if len(st) == 0 {
		return encode(nil), nil
	}
	_, err := decode(st)
	return st, err
}

func encode(jobs []job) []byte {
	b := guest.AppendArrayHeader(nil, len(jobs))
	for _, j := range jobs {
		b = coordinator.AppendStrs(b, j.row())
	}
	return b
}

func decode(st []byte) ([]job, error) {
	n, rest, err := guest.ReadArrayHeader(st)
	if err != nil {
		return nil, errors.New("coordinator: bad state")
	}
	jobs := make([]job, n)
	for i := range jobs {
		var r []string
		if r, rest, err = coordinator.ReadStrs(rest); err != nil || len(r) != 7 {
			return nil, errors.New("coordinator: bad state")
		}
		jobs[i] = job{r[0], r[1], r[2], r[3], r[4], r[5], r[6]}
	}
	return jobs, nil
}

func find(jobs []job, id string) int {
	for i := range jobs {
		if jobs[i].id == id {
			return i
		}
	}
	return -1
}

// dispatch publishes attempt n of j and sets its retry timer.
func dispatch(j *job, n int) error {
	j.attempts = strconv.Itoa(n)
	if err := guest.Publish("jobs."+j.kind, coordinator.Strs("job", j.id, j.kind, j.input, j.attempts)); err != nil {
		return err
	}
	guest.LogFields(guest.Info, "job dispatched", guest.Field{Key: "job", Value: j.id}, guest.Field{Key: "topic", Value: "jobs." + j.kind},
		guest.Field{Key: "attempt", Value: j.attempts})
	return guest.SetTimer("retry-"+j.id, RetryMs, 0, coordinator.Strs("retry", j.id))
}

func onRequest(st, msg []byte) ([]byte, []byte, error) {
	jobs, err := decode(st)
	if err != nil {
		return nil, nil, err
	}
	req, _, err := coordinator.ReadStrs(msg)
	if err != nil || len(req) == 0 {
		return nil, nil, errors.New(`coordinator: want ["submit", kind, input] or ["status"]`)
	}
	switch {
	case req[0] == "submit" && len(req) == 3:
		j := job{id: "j" + strconv.Itoa(len(jobs)+1), kind: req[1], input: req[2], status: "pending"}
		if err := dispatch(&j, 1); err != nil {
			// Refused (a kind no grant covers): an answer, not a crash.
			return st, coordinator.Strs("error", err.Error()), nil
		}
		return encode(append(jobs, j)), coordinator.Strs(j.id), nil
	case req[0] == "status" && len(req) == 1:
		lines := make([]string, len(jobs))
		for i, j := range jobs {
			lines[i] = strings.Join([]string{j.id, j.kind, j.status, "attempts=" + j.attempts, "worker=" + j.worker, j.output}, " ")
		}
		return st, coordinator.Strs(lines...), nil
	}
	return nil, nil, errors.New("coordinator: unknown request " + req[0])
}

func onMessage(st, msg []byte) ([]byte, error) {
	jobs, err := decode(st)
	if err != nil {
		return nil, err
	}
	m, _, err := coordinator.ReadStrs(msg)
	if err != nil || len(m) < 2 {
		return nil, errors.New("coordinator: bad message")
	}
	i := find(jobs, m[1])
	if i < 0 {
		return st, nil // not ours
	}
	j := &jobs[i]
	switch {
	case m[0] == "result" && len(m) == 4:
		if j.status != "pending" {
			// A late answer to an attempt retried meanwhile.
			guest.LogFields(guest.Info, "late result ignored", guest.Field{Key: "job", Value: j.id}, guest.Field{Key: "worker", Value: m[2]})
			return st, nil
		}
		j.status, j.worker, j.output = "done", m[2], m[3]
		guest.LogFields(guest.Info, "job done", guest.Field{Key: "job", Value: j.id}, guest.Field{Key: "worker", Value: j.worker})
		if err := guest.CancelTimer("retry-" + j.id); err != nil {
			return nil, err
		}
	case m[0] == "retry" && len(m) == 2:
		if j.status != "pending" {
			return st, nil
		}
		n, _ := strconv.Atoi(j.attempts)
		if n >= MaxAttempts {
			j.status = "failed"
			guest.LogFields(guest.Warn, "job failed", guest.Field{Key: "job", Value: j.id}, guest.Field{Key: "attempts", Value: j.attempts})
			break
		}
		guest.LogFields(guest.Warn, "job timed out; retrying", guest.Field{Key: "job", Value: j.id}, guest.Field{Key: "attempt", Value: j.attempts})
		if err := dispatch(j, n+1); err != nil {
			return nil, err
		}
	default:
		return nil, errors.New("coordinator: bad message " + m[0])
	}
	return encode(jobs), nil
}
