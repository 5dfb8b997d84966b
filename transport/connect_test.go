package transport_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"

	"github.com/theater-go/theater/transport"
	"github.com/theater-go/theater/transport/embedded"
)

// authServer starts an embedded server whose nats-server config file
// holds conf, which also exercises embedded.Config.ConfigFile.
func authServer(t *testing.T, conf string) *embedded.Server {
	t.Helper()
	return startServer(t, embedded.Config{ConfigFile: writeFile(t, "server.conf", conf)})
}

func TestConnectUserPassword(t *testing.T) {
	e := authServer(t, `authorization { user: alice, password: "s3cret" }`)
	nc := connect(t, transport.ClientConfig{URLs: e.ClientURL(), User: "alice", Password: "s3cret", Name: "test"})
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}

	_, err := transport.Connect(testContext(t), transport.ClientConfig{URLs: e.ClientURL(), User: "alice", Password: "wrong"})
	if !errors.Is(err, transport.ErrConnect) || !errors.Is(err, nats.ErrAuthorization) {
		t.Fatalf("wrong password: %v", err)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "transport: "+e.ClientURL()+" refused the credentials") || strings.Contains(msg, "wrong") {
		t.Errorf("wrong password message: %q", msg)
	}
}

func TestConnectToken(t *testing.T) {
	e := authServer(t, `authorization { token: "t0ken" }`)
	connect(t, transport.ClientConfig{URLs: e.ClientURL(), Token: "t0ken"})
	if _, err := transport.Connect(testContext(t), transport.ClientConfig{URLs: e.ClientURL()}); !errors.Is(err, nats.ErrAuthorization) {
		t.Fatalf("no token: %v", err)
	}
}

func TestConnectNKey(t *testing.T) {
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := kp.PublicKey()
	seed, _ := kp.Seed()
	e := authServer(t, fmt.Sprintf(`authorization { users = [ { nkey: %s } ] }`, pub))
	connect(t, transport.ClientConfig{URLs: e.ClientURL(), NKeySeedFile: writeFile(t, "user.nk", string(seed))})

	other, _ := nkeys.CreateUser()
	otherSeed, _ := other.Seed()
	_, err = transport.Connect(testContext(t), transport.ClientConfig{URLs: e.ClientURL(), NKeySeedFile: writeFile(t, "other.nk", string(otherSeed))})
	if !errors.Is(err, transport.ErrConnect) {
		t.Fatalf("unknown nkey: %v", err)
	}
}

func TestConnectTLS(t *testing.T) {
	dir := t.TempDir()
	ca, caKey := newCA(t, dir)
	issue(t, dir, "server", ca, caKey, x509.ExtKeyUsageServerAuth)
	issue(t, dir, "client", ca, caKey, x509.ExtKeyUsageClientAuth)
	p := func(name string) string { return filepath.Join(dir, name) }

	e := authServer(t, fmt.Sprintf(`tls { cert_file: %q, key_file: %q, ca_file: %q, verify: true }`,
		p("server.pem"), p("server-key.pem"), p("ca.pem")))
	if !strings.HasPrefix(e.ClientURL(), "tls://") {
		t.Errorf("ClientURL %q, want tls://", e.ClientURL())
	}
	cfg := transport.ClientConfig{URLs: e.ClientURL(), CAFile: p("ca.pem"), CertFile: p("client.pem"), KeyFile: p("client-key.pem")}
	nc := connect(t, cfg)
	if !nc.TLSRequired() {
		t.Error("connection is not TLS")
	}

	noCert := cfg
	noCert.CertFile, noCert.KeyFile = "", ""
	if _, err := transport.Connect(testContext(t), noCert); !errors.Is(err, transport.ErrConnect) {
		t.Fatalf("without client certificate: %v", err)
	}
	noCA := cfg
	noCA.CAFile = ""
	if _, err := transport.Connect(testContext(t), noCA); !errors.Is(err, transport.ErrConnect) {
		t.Fatalf("without the CA: %v", err)
	}
}

func newCA(t *testing.T, dir string) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "theater test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, filepath.Join(dir, "ca.pem"), "CERTIFICATE", der)
	return cert, key
}

// issue writes <name>.pem and <name>-key.pem, a certificate for
// 127.0.0.1 signed by ca.
func issue(t *testing.T, dir, name string, ca *x509.Certificate, caKey *ecdsa.PrivateKey, usage x509.ExtKeyUsage) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, filepath.Join(dir, name+".pem"), "CERTIFICATE", der)
	writePEM(t, filepath.Join(dir, name+"-key.pem"), "PRIVATE KEY", kder)
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestConnectUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	u := "nats://bob:pw@" + addr
	_, err = transport.Connect(testContext(t), transport.ClientConfig{URLs: u}, transport.WithConnectTimeout(time.Second))
	if !errors.Is(err, transport.ErrConnect) {
		t.Fatalf("err = %v", err)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "transport: cannot reach nats://bob:xxxxx@"+addr) || !strings.Contains(msg, "is a NATS server running") {
		t.Errorf("message %q", msg)
	}
}

func TestConnectConfigErrors(t *testing.T) {
	for _, cfg := range []transport.ClientConfig{
		{User: "a", Password: "b", Token: "t"},
		{Token: "t", CredsFile: "x.creds"},
		{CertFile: "c.pem"},
		{KeyFile: "k.pem"},
		{NKeySeedFile: "/does/not/exist.nk"},
		{CAFile: "/does/not/exist.pem"},
	} {
		if _, err := transport.Connect(testContext(t), cfg); !errors.Is(err, transport.ErrConfig) || !strings.HasPrefix(err.Error(), "transport: ") {
			t.Errorf("%+v: err = %v, want transport.ErrConfig", cfg, err)
		}
	}
}

// TestReconnect restarts the server on the same port and store dir: the
// client finds it again by itself, logs both transitions, and the
// JetStream data written before the restart is still there.
func TestReconnect(t *testing.T) {
	store := t.TempDir()
	e := startServer(t, embedded.Config{StoreDir: store})
	logger, logs := capturingLogger()
	nc := connect(t, transport.ClientConfig{URLs: e.ClientURL()}, transport.WithLogger(logger), transport.WithReconnectWait(20*time.Millisecond))
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t)
	l := transport.Layout{}
	if err := l.Ensure(ctx, js, transport.StoreConfig{}); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, l.SendSubject("a1"), []byte("before")); err != nil {
		t.Fatal(err)
	}

	shutdown(t, e)
	checkFor(t, 5*time.Second, 10*time.Millisecond, func() error {
		if !logs.Contains("disconnected from NATS") {
			return errors.New("no disconnect logged")
		}
		return nil
	})

	u, _ := url.Parse(e.ClientURL())
	startServer(t, embedded.Config{Listen: u.Host, StoreDir: store})
	checkFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		if !nc.IsConnected() || !logs.Contains("reconnected to NATS") {
			return fmt.Errorf("status %v, log:\n%s", nc.Status(), logs)
		}
		return nil
	})
	stream, err := js.Stream(ctx, l.MailboxStream())
	if err != nil {
		t.Fatal(err)
	}
	msg, err := stream.GetLastMsgForSubject(ctx, l.SendSubject("a1"))
	if err != nil || string(msg.Data) != "before" {
		t.Fatalf("message after restart: %v, %v", msg, err)
	}
}

// TestConnectContext: a server that accepts but never speaks holds the
// handshake; the context's deadline, not the 5s connect timeout, ends it.
func TestConnectContext(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = transport.Connect(ctx, transport.ClientConfig{URLs: "nats://" + l.Addr().String()}, transport.WithMaxReconnects(0))
	if !errors.Is(err, transport.ErrConnect) || !strings.HasPrefix(err.Error(), "transport: ") {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Connect took %v despite a 200ms context", d)
	}
}
