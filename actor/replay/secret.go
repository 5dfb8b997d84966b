package replay

import (
	"bytes"
	"crypto/sha256"
	"fmt"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/theater-go/theater/actor"
)

// CallSecret is one config.get of a secret; Data is the msgpack map
// {"name": str, "sha256": bin}, the SHA-256 of the secret the guest got,
// or nil when the node had none. The secret itself is never recorded: a
// replay needs the same secret from its own source ([actor.Spec]'s
// Secrets, which Replay keeps) and diverges if it differs. Config values
// from the manifest are not inputs: the spawn event records the manifest.
const CallSecret = "secret"

// Secrets returns the secret source to put in the actor's spec: it asks
// src (nil has no secrets) and records each answer's digest.
func (r *Recorder) Secrets(src actor.SecretSource) actor.SecretSource { return recSecrets{r, src} }

type recSecrets struct {
	r   *Recorder
	src actor.SecretSource
}

func (s recSecrets) Secret(name string) (string, bool) {
	var v string
	var ok bool
	if s.src != nil {
		v, ok = s.src.Secret(name)
	}
	s.r.record(CallSecret, encodeSecret(name, v, ok))
	return v, ok
}

func encodeSecret(name, v string, ok bool) []byte {
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	// Writes to a bytes.Buffer do not fail.
	_ = enc.EncodeMapLen(2)
	_ = enc.EncodeString("name")
	_ = enc.EncodeString(name)
	_ = enc.EncodeString("sha256")
	if ok {
		d := sha256.Sum256([]byte(v))
		_ = enc.EncodeBytes(d[:])
	} else {
		_ = enc.EncodeNil()
	}
	return buf.Bytes()
}

// playSecrets answers secrets from the replay's own source, checking
// each against the recorded digest.
type playSecrets struct {
	p   *player
	src actor.SecretSource
}

func (s playSecrets) Secret(name string) (string, bool) {
	in, i, ok := s.p.take(CallSecret)
	if !ok {
		return "", false
	}
	var v string
	var has bool
	if s.src != nil {
		v, has = s.src.Secret(name)
	}
	if got := encodeSecret(name, v, has); !bytes.Equal(got, in.Data) {
		// Say which, never what: the record holds digests only.
		s.p.misfit(i, CallSecret, fmt.Sprintf("secret %q, digest %x", name, in.Data), fmt.Sprintf("the replay's secret %q (present: %v) has another digest", name, has))
		return "", false
	}
	return v, has
}
