package replay

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/theater-go/theater/actor"
)

// CallHTTP is one http-client.send; Data is the msgpack map
// {"method": str, "url": str, "result": {"ok": response} | {"err": error}},
// response and error being the WIT http-client values the guest received,
// in canonical form.
const CallHTTP = "http"

// HTTP returns the http-client to put in the actor's spec: it calls c
// (nil answers every call with "failed") and records each outcome as a
// [CallHTTP] input, so that replay answers it with the network off.
func (r *Recorder) HTTP(c actor.HTTPClient) actor.HTTPClient { return recHTTP{r, c} }

type recHTTP struct {
	r *Recorder
	c actor.HTTPClient
}

func (h recHTTP) Do(ctx context.Context, req actor.HTTPRequest) (actor.HTTPResponse, error) {
	var resp actor.HTTPResponse
	err := errNoHTTP
	if h.c != nil {
		resp, err = h.c.Do(ctx, req)
	}
	data, herr := encodeHTTP(req, resp, err)
	if herr != nil {
		// The response does not fit the WIT (a status over u16): the
		// guest gets it as invalid, and so does replay.
		err = &actor.HTTPError{Case: "invalid", Text: herr.Error()}
		data, _ = encodeHTTP(req, resp, err)
	}
	h.r.record(CallHTTP, data)
	if err != nil {
		return actor.HTTPResponse{}, actor.HTTPErrorOf(err)
	}
	return resp, nil
}

var errNoHTTP = errors.New("replay: no http client")

func encodeHTTP(req actor.HTTPRequest, resp actor.HTTPResponse, err error) ([]byte, error) {
	var tag string
	var val []byte
	var eerr error
	if err != nil {
		tag = "err"
		val, eerr = actor.EncodeHTTPError(actor.HTTPErrorOf(err))
	} else {
		tag = "ok"
		val, eerr = actor.EncodeHTTPResponse(resp)
	}
	if eerr != nil {
		return nil, eerr
	}
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	// Writes to a bytes.Buffer do not fail.
	_ = enc.EncodeMapLen(3)
	_ = enc.EncodeString("method")
	_ = enc.EncodeString(req.Method)
	_ = enc.EncodeString("url")
	_ = enc.EncodeString(req.URL)
	_ = enc.EncodeString("result")
	_ = enc.EncodeMapLen(1)
	_ = enc.EncodeString(tag)
	buf.Write(val)
	return buf.Bytes(), nil
}

// decodeHTTP parses an http input's Data and checks it is in the one
// form a recorder writes.
func decodeHTTP(data []byte) (method, url string, resp actor.HTTPResponse, err error) {
	bad := func(why string) error { return fmt.Errorf("%w: http: %s", ErrMalformedInput, why) }
	dec := msgpack.NewDecoder(bytes.NewReader(data))
	var env struct {
		Method string `msgpack:"method"`
		URL    string `msgpack:"url"`
		Result map[string]msgpack.RawMessage
	}
	n, derr := dec.DecodeMapLen()
	if derr != nil || n != 3 {
		return "", "", resp, bad("not a map of method, url and result")
	}
	for range n {
		k, derr := dec.DecodeString()
		if derr != nil {
			return "", "", resp, bad(derr.Error())
		}
		switch k {
		case "method":
			env.Method, derr = dec.DecodeString()
		case "url":
			env.URL, derr = dec.DecodeString()
		case "result":
			derr = dec.Decode(&env.Result)
		default:
			derr = errors.New("unknown key " + k)
		}
		if derr != nil {
			return "", "", resp, bad(derr.Error())
		}
	}
	if len(env.Result) != 1 {
		return "", "", resp, bad("result is not one of ok, err")
	}
	var herr error
	if raw, ok := env.Result["ok"]; ok {
		resp, derr = actor.DecodeHTTPResponse(raw)
	} else if raw, ok := env.Result["err"]; ok {
		herr, derr = decodeHTTPError(raw)
	} else {
		return "", "", resp, bad("result is not one of ok, err")
	}
	if derr != nil {
		return "", "", resp, bad(derr.Error())
	}
	again, _ := encodeHTTP(actor.HTTPRequest{Method: env.Method, URL: env.URL}, resp, herr)
	if !bytes.Equal(again, data) {
		return "", "", resp, bad("not in canonical form")
	}
	return env.Method, env.URL, resp, herr
}

// decodeHTTPError reads an http-client.error variant {case: text|nil}.
func decodeHTTPError(raw []byte) (error, error) {
	var m map[string]*string
	if err := msgpack.Unmarshal(raw, &m); err != nil || len(m) != 1 {
		return nil, errors.New("error is not a one-case variant")
	}
	e := &actor.HTTPError{}
	for c, v := range m {
		e.Case = c
		if v != nil {
			e.Text = *v
		}
	}
	if _, err := actor.EncodeHTTPError(e); err != nil {
		return nil, err // a case the WIT does not have
	}
	return e, nil
}

// playHTTP answers http-client calls from the record.
type playHTTP struct{ p *player }

func (h playHTTP) Do(_ context.Context, req actor.HTTPRequest) (actor.HTTPResponse, error) {
	in, i, ok := h.p.take(CallHTTP)
	if !ok {
		return actor.HTTPResponse{}, context.DeadlineExceeded
	}
	method, url, resp, err := decodeHTTP(in.Data)
	switch {
	case errors.Is(err, ErrMalformedInput):
		h.p.misfit(i, CallHTTP, fmt.Sprintf("data %x", in.Data), err.Error())
		return actor.HTTPResponse{}, context.DeadlineExceeded
	case method != req.Method || url != req.URL:
		h.p.misfit(i, CallHTTP, method+" "+url, req.Method+" "+req.URL)
		return actor.HTTPResponse{}, context.DeadlineExceeded
	}
	return resp, err
}
