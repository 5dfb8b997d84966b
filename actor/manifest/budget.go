package manifest

// MaxBudget bounds each budget limit of [Limits]: past it a limit bounds
// nothing a handler call could do within its deadline.
const MaxBudget = 1 << 30

// checkBudget checks the budget limits: zero (the runtime's default) or
// 1..MaxBudget.
func (l *Limits) checkBudget() *Error {
	for _, f := range []struct {
		key string
		v   int
	}{
		{"limits.log_lines_per_call", l.LogLinesPerCall},
		{"limits.log_bytes_per_call", l.LogBytesPerCall},
		{"limits.log_lines_per_second", l.LogLinesPerSecond},
		{"limits.log_bytes_per_second", l.LogBytesPerSecond},
		{"limits.sends_per_call", l.SendsPerCall},
		{"limits.requests_per_call", l.RequestsPerCall},
	} {
		if f.v != 0 {
			if e := intRange(f.key, f.v, MaxBudget); e != nil {
				return e
			}
		}
	}
	return nil
}
