package wire

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/theater-go/theater/actor/manifest"
	"github.com/theater-go/theater/wit"
	"github.com/theater-go/theater/wit/codec"
)

// Types are the WIT types of an actor's messages and state, as its
// manifest names them; nil where it names none.
type Types struct {
	Send, Request, Reply, State wit.Type
}

// LoadTypes resolves the manifest's type references in the WIT source
// (nil when the manifest has no WIT: then only primitives resolve).
func LoadTypes(m *manifest.Manifest, witSrc []byte) (Types, error) {
	if witSrc == nil {
		// Without WIT only primitives and types built from them resolve;
		// an empty package gives the lookup a model to work on.
		witSrc = []byte("package theater:no-wit;\n")
	}
	model, err := wit.Parse(m.Name+".wit", witSrc)
	if err != nil {
		return Types{}, fmt.Errorf("%w: wit: %w", ErrBadManifest, err)
	}
	var ts Types
	for _, f := range []struct {
		key string
		ref string
		dst *wit.Type
	}{
		{"types.send", m.Types.Send, &ts.Send},
		{"types.request", m.Types.Request, &ts.Request},
		{"types.reply", m.Types.Reply, &ts.Reply},
		{"types.state", m.Types.State, &ts.State},
	} {
		if f.ref == "" {
			continue
		}
		t, err := model.Type(f.ref)
		if err != nil {
			return Types{}, fmt.Errorf("%w: %s: %w", ErrBadManifest, f.key, err)
		}
		if err := codec.CheckType(t); err != nil {
			return Types{}, fmt.Errorf("%w: %s: %w", ErrBadManifest, f.key, err)
		}
		*f.dst = t
	}
	return ts, nil
}

// CheckPayload turns an incoming payload into msgpack of type t: JSON is
// transcoded, msgpack validated. limit is the actor's message size limit
// (0: none). Errors wrap [ErrTooLarge], [ErrBadJSON], [ErrBadMsgpack] or
// [ErrBadType].
func CheckPayload(data []byte, enc Encoding, t wit.Type, limit int) ([]byte, error) {
	if limit > 0 && len(data) > limit {
		return nil, fmt.Errorf("%w: %d bytes, the actor accepts at most %d", ErrTooLarge, len(data), limit)
	}
	if enc == JSON {
		// Syntax first: the codec reports the first value that does not
		// fit, which for truncated JSON would hide that it is not JSON.
		if !json.Valid(data) {
			return nil, fmt.Errorf("%w: the payload is not valid JSON", ErrBadJSON)
		}
		b, err := codec.FromJSON(t, data)
		if errors.Is(err, codec.ErrMalformed) {
			return nil, fmt.Errorf("%w: %w", ErrBadJSON, err)
		}
		return b, CodecError(err)
	}
	if t == nil {
		return data, nil
	}
	return data, CodecError(codec.Validate(t, data))
}
