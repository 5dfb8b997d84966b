//go:build wasip1

package guest

import "unsafe"

//go:wasmimport theater:actor/channel@0.1.0 publish
func channelPublish(topic unsafe.Pointer, topicLen uint32, payload unsafe.Pointer, payloadLen uint32, retptr unsafe.Pointer) int32

//go:wasmimport theater:actor/log@0.1.0 write-fields
func logWriteFields(level uint32, msg unsafe.Pointer, msgLen uint32, fields unsafe.Pointer, fieldsLen uint32) int32

func retChannelError() error { return ParseChannelError(retBytes(0)) }

// Publish publishes payload (a msgpack value of the subscribers' send
// type) to topic, once the handler's event is durable (needs the channel
// capability and a grant for the topic). A refusal is a *ChannelError.
func Publish(topic string, payload []byte) error {
	return statusErr(channelPublish(strPtr(topic), uint32(len(topic)), bytesPtr(payload), uint32(len(payload)), retPtr()), retChannelError)
}

// LogFields writes one log line with structured fields (needs the log
// capability); the node logs each field as an attribute.
func LogFields(level Level, msg string, fields ...Field) error {
	fs := AppendFields(nil, fields)
	return statusErr(logWriteFields(uint32(level), strPtr(msg), uint32(len(msg)), bytesPtr(fs), uint32(len(fs))), nil)
}
