package wire

// Headers of Theater messages, and their values.
const (
	// ErrorHeader carries the error code of a failed request; the body is
	// the human-readable message.
	ErrorHeader = "Theater-Error"
	// ContentTypeHeader with the value ContentJSON marks a JSON payload;
	// without it a payload is msgpack.
	ContentTypeHeader = "Content-Type"
	ContentJSON       = "application/json"
	// EventHeader names the kind of a lifecycle event and NodeHeader the
	// node that published it, so `nats sub` output is readable as is.
	EventHeader = "Theater-Event"
	NodeHeader  = "Theater-Node"
	// FromHeader names the actor that sent a message, when an actor did.
	FromHeader = "Theater-From"
)

// Encoding is the encoding of a payload on the wire.
type Encoding uint8

// Encodings. Msgpack is the default: a message without a
// [ContentTypeHeader] is msgpack.
const (
	Msgpack Encoding = iota
	JSON
)

func (e Encoding) String() string {
	if e == JSON {
		return "json"
	}
	return "msgpack"
}
