// Package tool is the coordinator example's HTTP tool, which its tool
// worker calls through http-client; tool/server serves it.
package tool

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
)

// Handler is the example's HTTP tool: POST / with a text body answers
// "<n> bytes, sha256 <first 12 hex digits of its SHA-256>".
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/" {
			http.Error(w, "POST / only", http.StatusMethodNotAllowed)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<16))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		sum := sha256.Sum256(body)
		fmt.Fprintf(w, "%d bytes, sha256 %s", len(body), hex.EncodeToString(sum[:])[:12])
	})
}
