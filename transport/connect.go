package transport

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
)

// ClientConfig says which NATS servers to reach and how to authenticate.
// It is plain data, loaded from flags or a file; the zero value connects
// to nats://127.0.0.1:4222 without credentials, which is what a node's
// default embedded server serves.
//
// At most one of user/password, token, creds file and NKey seed file may
// be set. TLS is used when the URL scheme is tls:// or any TLS file is
// given.
type ClientConfig struct {
	// URLs is a comma-separated list of server URLs
	// (nats://host:4222,tls://other:4222).
	URLs string `toml:"urls" json:"urls,omitempty"`
	// Name identifies the connection in `nats server report connections`.
	Name     string `toml:"name" json:"name,omitempty"`
	User     string `toml:"user" json:"user,omitempty"`
	Password string `toml:"password" json:"password,omitempty"`
	Token    string `toml:"token" json:"token,omitempty"`
	// CredsFile is a decentralized-auth credentials file (JWT and seed).
	CredsFile string `toml:"creds_file" json:"creds_file,omitempty"`
	// NKeySeedFile holds a user NKey seed (SU...).
	NKeySeedFile string `toml:"nkey_seed_file" json:"nkey_seed_file,omitempty"`
	// CAFile holds the PEM certificates that verify the server.
	CAFile string `toml:"ca_file" json:"ca_file,omitempty"`
	// CertFile and KeyFile are the client certificate and key in PEM,
	// for servers that verify clients; both or neither.
	CertFile string `toml:"cert_file" json:"cert_file,omitempty"`
	KeyFile  string `toml:"key_file" json:"key_file,omitempty"`
}

// Connect connects to the NATS servers in cfg, waiting at most until ctx
// is done. The returned connection reconnects by itself after losing its
// server (forever unless [WithMaxReconnects] says otherwise) and logs
// disconnects, reconnects, asynchronous errors and its closing to the
// logger set by [WithLogger].
//
// Only the first connection must succeed: if no server can be reached the
// error wraps [ErrConnect] and names the URLs; a bad configuration wraps
// [ErrConfig].
func Connect(ctx context.Context, cfg ClientConfig, opts ...Option) (*nats.Conn, error) {
	set := newSettings(opts)
	nopts, err := clientOptions(cfg, set)
	if err != nil {
		return nil, err
	}
	timeout := set.connectTimeout
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < timeout {
		timeout = time.Until(dl)
	}
	nopts.Timeout = timeout

	// nats.Connect takes no context; it runs aside and is abandoned (and
	// closed once it returns) when ctx ends first.
	type result struct {
		nc  *nats.Conn
		err error
	}
	ch := make(chan result, 1)
	go func() {
		nc, err := nopts.Connect()
		ch <- result{nc, err}
	}()
	urls := redactURLs(nopts.Servers)
	select {
	case r := <-ch:
		if r.err != nil {
			return nil, connectFailure(urls, r.err)
		}
		return r.nc, nil
	case <-ctx.Done():
		go func() {
			if r := <-ch; r.nc != nil {
				r.nc.Close()
			}
		}()
		cause := context.Cause(ctx)
		return nil, connectError(fmt.Sprintf("transport: cannot reach %s: %v", urls, cause), cause)
	}
}

func clientOptions(cfg ClientConfig, set settings) (nats.Options, error) {
	o := nats.GetDefaultOptions()
	o.Servers = splitURLs(cfg.URLs)
	if len(o.Servers) == 0 {
		o.Servers = []string{nats.DefaultURL}
	}
	o.Name = cfg.Name
	o.MaxReconnect = set.maxReconnects
	o.ReconnectWait = set.reconnectWait
	o.AllowReconnect = true

	auths := 0
	for _, given := range []bool{cfg.User != "" || cfg.Password != "", cfg.Token != "", cfg.CredsFile != "", cfg.NKeySeedFile != ""} {
		if given {
			auths++
		}
	}
	if auths > 1 {
		return o, configError("transport: give only one of user/password, token, creds file and nkey seed file", nil)
	}
	if (cfg.CertFile == "") != (cfg.KeyFile == "") {
		return o, configError("transport: a client certificate needs both cert file and key file", nil)
	}

	var apply []nats.Option
	switch {
	case cfg.User != "" || cfg.Password != "":
		apply = append(apply, nats.UserInfo(cfg.User, cfg.Password))
	case cfg.Token != "":
		apply = append(apply, nats.Token(cfg.Token))
	case cfg.CredsFile != "":
		apply = append(apply, nats.UserCredentials(cfg.CredsFile))
	case cfg.NKeySeedFile != "":
		nk, err := nats.NkeyOptionFromSeed(cfg.NKeySeedFile)
		if err != nil {
			return o, configError("transport: nkey seed file "+cfg.NKeySeedFile+": "+err.Error(), err)
		}
		apply = append(apply, nk)
	}
	if cfg.CAFile != "" {
		apply = append(apply, nats.RootCAs(cfg.CAFile))
	}
	if cfg.CertFile != "" {
		apply = append(apply, nats.ClientCert(cfg.CertFile, cfg.KeyFile))
	}
	apply = append(apply, connectionLogging(set))
	for _, a := range apply {
		if err := a(&o); err != nil {
			return o, configError("transport: "+err.Error(), err)
		}
	}
	return o, nil
}

// connectionLogging logs the connection's life: a node that silently
// lost NATS looks healthy while every actor on it is cut off.
func connectionLogging(set settings) nats.Option {
	log := set.logger.With("component", "nats-client")
	return func(o *nats.Options) error {
		o.DisconnectedErrCB = func(nc *nats.Conn, err error) {
			if err == nil {
				// Close also reports a disconnect; ClosedCB says it better.
				return
			}
			log.Warn("transport: disconnected from NATS, reconnecting", "err", err)
		}
		o.ReconnectedCB = func(nc *nats.Conn) {
			log.Info("transport: reconnected to NATS", "url", nc.ConnectedUrlRedacted())
		}
		o.ClosedCB = func(nc *nats.Conn) {
			if err := nc.LastError(); err != nil {
				log.Warn("transport: NATS connection closed", "err", err)
				return
			}
			log.Debug("transport: NATS connection closed")
		}
		o.AsyncErrorCB = func(nc *nats.Conn, sub *nats.Subscription, err error) {
			if sub != nil {
				log.Warn("transport: NATS async error", "subject", sub.Subject, "err", err)
				return
			}
			log.Warn("transport: NATS async error", "err", err)
		}
		return nil
	}
}

// connectFailure explains why the first connection failed: refused
// credentials and an absent server need different fixes.
func connectFailure(urls string, err error) error {
	switch {
	case errors.Is(err, nats.ErrAuthorization), errors.Is(err, nats.ErrAuthExpired),
		errors.Is(err, nats.ErrAuthRevoked), errors.Is(err, nats.ErrAccountAuthExpired):
		return connectError(fmt.Sprintf("transport: %s refused the credentials: %v; check the user/password, token, creds or nkey settings", urls, err), err)
	}
	reason := err.Error()
	if errors.Is(err, nats.ErrNoServers) {
		// nats.go reports a refused dial as "no servers available",
		// which hides that nothing listens at the address.
		reason = "connection refused"
	}
	return connectError(fmt.Sprintf("transport: cannot reach %s: %s; is a NATS server running there? (a theater node embeds one at %s unless told to listen elsewhere)", urls, reason, nats.DefaultURL), err)
}

func splitURLs(s string) []string {
	var out []string
	for u := range strings.SplitSeq(s, ",") {
		if u = strings.TrimSpace(u); u != "" {
			out = append(out, u)
		}
	}
	return out
}

// redactURLs joins urls for messages, hiding any password in them.
func redactURLs(urls []string) string {
	out := make([]string, len(urls))
	for i, raw := range urls {
		out[i] = raw
		if u, err := url.Parse(raw); err == nil && u.User != nil {
			out[i] = u.Redacted()
		}
	}
	return strings.Join(out, ",")
}
