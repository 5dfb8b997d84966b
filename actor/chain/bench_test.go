package chain_test

import (
	"testing"

	"github.com/theater-go/theater/actor/chain"
)

// BenchmarkVerify verifies a 10,000-event chain of handled messages with
// 64-byte payloads; events/s is the figure for docs/BENCHMARKS.md.
func BenchmarkVerify(b *testing.B) {
	const n = 10_000
	rs := records(handledChain(b, "counter-1", n))
	size := 0
	for _, r := range rs {
		size += len(r.Data)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if rep := chain.Verify("counter-1", chain.Head{}, rs); !rep.OK() {
			b.Fatal(rep.Findings)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(size)/n, "payload-B/event")
}

func BenchmarkSeal(b *testing.B) {
	body := handledChain(b, "counter-1", 1)[0].Event.Body
	var head chain.Head
	b.ReportAllocs()
	for b.Loop() {
		s, err := chain.Seal(head.Next("counter-1", body))
		if err != nil {
			b.Fatal(err)
		}
		head = s.Head()
	}
}

func BenchmarkDecode(b *testing.B) {
	p := handledChain(b, "counter-1", 1)[0].Payload
	b.ReportAllocs()
	for b.Loop() {
		if _, err := chain.Decode(p); err != nil {
			b.Fatal(err)
		}
	}
}
