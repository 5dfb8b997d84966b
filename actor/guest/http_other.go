//go:build !wasip1

package guest

// HTTPSend performs an outbound request. Here it fails with ErrNotWasm.
func HTTPSend(r HTTPRequest) (HTTPResponse, error) { return HTTPResponse{}, ErrNotWasm }
