//go:build wasip1

package guest

import "unsafe"

//go:wasmimport theater:actor/http-client@0.1.0 send
func httpSend(req unsafe.Pointer, reqLen uint32, retptr unsafe.Pointer) int32

func retHTTPError() error { return decodeHTTPError(retBytes(0)) }

// HTTPSend performs one outbound request (needs the http-client
// capability) and returns the whole response. A refusal or failure
// reported by the host is an *HTTPError.
func HTTPSend(r HTTPRequest) (HTTPResponse, error) {
	b := AppendHTTPRequest(nil, r)
	if err := statusErr(httpSend(bytesPtr(b), uint32(len(b)), retPtr()), retHTTPError); err != nil {
		return HTTPResponse{}, err
	}
	return ParseHTTPResponse(retBytes(0))
}
