package node

import (
	"context"
	"errors"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/actor/replay"
)

// metrics are a node's Prometheus metrics (Config.Metrics). Their labels
// name an actor's type, its manifest's name, never its id: a node may
// host a million actors, and a series per id would be a million series.
// A nil *metrics records nothing.
type metrics struct {
	n        *Node
	reg      prometheus.Registerer
	all      []prometheus.Collector
	handled  *prometheus.CounterVec   // type, call
	failures *prometheus.CounterVec   // type, kind
	resumes  *prometheus.CounterVec   // type
	restarts *prometheus.CounterVec   // type
	duration *prometheus.HistogramVec // type, call
	limits   *prometheus.CounterVec   // type, limit
	spawn    *prometheus.HistogramVec // type
	compile  *prometheus.HistogramVec // type
	actors   *prometheus.Desc         // type
	mailbox  *prometheus.Desc         // type
}

// Limits a budget counts, as the limit label of
// theater_actor_limits_hit_total.
const (
	limitLogLines = "log_lines_dropped"
	limitLogBytes = "log_bytes_dropped"
	limitSends    = "sends_refused"
	limitRequests = "requests_refused"
)

// newMetrics registers a node's metrics with reg, every one with a node
// label; nil reg means none.
func newMetrics(reg prometheus.Registerer, n *Node) (*metrics, error) {
	if reg == nil {
		return nil, nil
	}
	reg = prometheus.WrapRegistererWith(prometheus.Labels{"node": n.name}, reg)
	buckets := prometheus.ExponentialBuckets(0.0001, 4, 10) // 100 µs to 26 s
	m := &metrics{n: n, reg: reg,
		handled: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "theater", Subsystem: "actor", Name: "messages_handled_total",
			Help: "Messages (sends and requests) handled by actors, failed ones included."}, []string{"type", "call"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "theater", Subsystem: "actor", Name: "failures_total",
			Help: "Handler failures by kind (trap, deadline, fuel, memory, failed, ...) and sends rejected unhandled (rejected)."}, []string{"type", "kind"}),
		resumes: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "theater", Subsystem: "actor", Name: "resumes_total",
			Help: "Actors resumed from their chain on this node: after a crash, a takeover or a restart of the node."}, []string{"type"}),
		restarts: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "theater", Subsystem: "actor", Name: "restarts_total",
			Help: "Actor instances restarted by their supervisor after a failure."}, []string{"type"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "theater", Subsystem: "actor", Name: "handler_duration_seconds",
			Help: "Time in one handler call, the guest's work and its host calls.", Buckets: buckets}, []string{"type", "call"}),
		limits: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "theater", Subsystem: "actor", Name: "limits_hit_total",
			Help: "What actors' budgets refused: log lines and bytes dropped, sends and requests refused."}, []string{"type", "limit"}),
		spawn: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "theater", Name: "spawn_duration_seconds",
			Help: "Time of a successful spawn on this node, lease to registry entry.", Buckets: buckets}, []string{"type"}),
		compile: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "theater", Name: "compile_duration_seconds",
			Help: "Time to compile and instantiate a module this node had not compiled before.", Buckets: buckets}, []string{"type"}),
		actors: prometheus.NewDesc("theater_actors", "Actors hosted by this node.", []string{"type"}, nil),
		mailbox: prometheus.NewDesc("theater_actor_mailbox_messages",
			"Sends stored in the mailboxes of the hosted actors: the unhandled ones and the handled ones awaiting their purge (at most 256 an actor).",
			[]string{"type"}, nil),
	}
	for _, c := range []prometheus.Collector{m.handled, m.failures, m.resumes, m.restarts, m.duration, m.limits, m.spawn, m.compile, m} {
		if err := reg.Register(c); err != nil {
			m.close()
			return nil, err
		}
		m.all = append(m.all, c)
	}
	return m, nil
}

// close unregisters the metrics, so that a node started again under the
// same name can register them in the same registry.
func (m *metrics) close() {
	if m == nil {
		return
	}
	for _, c := range m.all {
		m.reg.Unregister(c)
	}
}

// Describe and Collect make the gauges read at scrape time a collector.
func (m *metrics) Describe(ch chan<- *prometheus.Desc) { ch <- m.actors; ch <- m.mailbox }

// Collect counts the hosted actors by type and reads their mailboxes'
// sizes with one stream info request.
func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	n := m.n
	n.mu.Lock()
	types := make(map[string]string, len(n.hosted)) // send subject -> type
	count := map[string]int{}
	for id, h := range n.hosted {
		t := h.entry.Manifest.Name
		types[n.cfg.Layout.SendSubject(id)] = t
		count[t]++
	}
	n.mu.Unlock()
	depth := map[string]uint64{}
	for t, c := range count {
		ch <- prometheus.MustNewConstMetric(m.actors, prometheus.GaugeValue, float64(c), t)
		depth[t] = 0
	}
	ctx, cancel := context.WithTimeout(n.ctx, 2*time.Second)
	defer cancel()
	if s, err := n.js.Stream(ctx, n.cfg.Layout.MailboxStream()); err == nil && len(types) > 0 {
		if info, err := s.Info(ctx, jetstream.WithSubjectFilter(n.cfg.Layout.SendSubject("*"))); err == nil {
			for subj, c := range info.State.Subjects {
				if t, ok := types[subj]; ok {
					depth[t] += c
				}
			}
		}
	}
	for t, d := range depth {
		ch <- prometheus.MustNewConstMetric(m.mailbox, prometheus.GaugeValue, float64(d), t)
	}
}

// handledCall records one handler call of h: its time, its failure and
// what its budget refused since the last call.
func (m *metrics) handledCall(h *hosted, call string, d time.Duration, err error) {
	if m == nil {
		return
	}
	t := h.entry.Manifest.Name
	m.handled.WithLabelValues(t, call).Inc()
	m.duration.WithLabelValues(t, call).Observe(d.Seconds())
	if err != nil && !errors.Is(err, actor.ErrStopped) && !errors.Is(err, actor.ErrKilled) && !errors.Is(err, actor.ErrClosed) {
		m.failures.WithLabelValues(t, failureKind(err)).Inc()
	}
	hit := h.a.LimitsHit()
	last := h.hits
	h.hits = hit
	for _, l := range []struct {
		name      string
		now, then uint64
	}{
		{limitLogLines, hit.DroppedLogLines, last.DroppedLogLines},
		{limitLogBytes, hit.DroppedLogBytes, last.DroppedLogBytes},
		{limitSends, hit.RefusedSends, last.RefusedSends},
		{limitRequests, hit.RefusedRequests, last.RefusedRequests},
	} {
		if l.now > l.then {
			m.limits.WithLabelValues(t, l.name).Add(float64(l.now - l.then))
		}
	}
}

// failureKind is the kind label of a handler's error, the reason its
// chain records.
func failureKind(err error) string {
	var f actor.Failure
	var pf *actor.Failure
	switch {
	case errors.As(err, &f):
		return replay.Reason(f.Kind)
	case errors.As(err, &pf):
		return replay.Reason(pf.Kind)
	}
	return "failed"
}

// rejected records a send refused unhandled (malformed, wrong type).
func (m *metrics) rejected(h *hosted) {
	if m != nil {
		m.failures.WithLabelValues(h.entry.Manifest.Name, "rejected").Inc()
	}
}

// resumed records an actor resumed from its chain.
func (m *metrics) resumed(h *hosted) {
	if m != nil {
		m.resumes.WithLabelValues(h.entry.Manifest.Name).Inc()
	}
}

// restarted records a restart of an actor's instance by its supervisor.
func (m *metrics) restarted(h *hosted) {
	if m != nil {
		m.restarts.WithLabelValues(h.entry.Manifest.Name).Inc()
	}
}

// spawned records a successful spawn that took d.
func (m *metrics) spawned(typ string, d time.Duration) {
	if m != nil {
		m.spawn.WithLabelValues(typ).Observe(d.Seconds())
	}
}

// compiled records the first start of a module on this node, compile
// and instantiation, that took d.
func (m *metrics) compiled(typ string, d time.Duration) {
	if m != nil {
		m.compile.WithLabelValues(typ).Observe(d.Seconds())
	}
}
