package syntax

import (
	"errors"
	"testing"
)

// FuzzParse checks that Parse never panics, that every failure is a
// positioned *Error and that every position in a successful parse lies
// inside the input.
func FuzzParse(f *testing.F) {
	f.Add([]byte(docsSrc))
	f.Fuzz(func(t *testing.T, src []byte) {
		file, err := Parse("fuzz.wit", src)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Pos.Line < 1 || e.Pos.Col < 1 || e.Pos.File != "fuzz.wit" {
				t.Fatalf("bad error %#v", err)
			}
			return
		}
		checkPositions(t, file, src)
	})
}
