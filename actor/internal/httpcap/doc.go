// Package httpcap is the outbound policy of the http-client capability:
// which URLs an actor may call and how much it may send and receive.
//
// # Policy
//
// A [Policy] is the grant: an allow-list of hosts (exact, or "*.domain"),
// ports, schemes and methods, body limits, a deadline for the whole
// exchange and a bound on redirects. [New] checks it and fills defaults.
//
// # Addresses
//
// The allow-list is checked on the URL; the address is checked when the
// connection is dialled, after DNS, so a host name that resolves to
// loopback, a private or link-local network (DNS rebinding, SSRF to a
// metadata service) is refused unless [Policy.AllowPrivate] is set. Every
// redirect is checked against the allow-list again. Proxies from the
// environment are ignored.
//
// # Responses
//
// [Client.Do] returns the status, the headers named in
// [Policy.ExposeHeaders] and the whole body, read up to the limit: a
// value the caller can record and hand back on replay.
package httpcap
