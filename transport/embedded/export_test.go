package embedded

import (
	"net"

	"github.com/nats-io/nats-server/v2/server"
)

// ServerOptions and Addr let the external tests check what a Config
// turns into without starting a server on a fixed port.
func ServerOptions(cfg Config) (*server.Options, error) { return serverOptions(cfg) }

func Addr(s *Server) net.Addr { return s.srv.Addr() }
