// Package natstest starts real servers for tests, as nats-server's
// test.RunServer does: an embedded nats-server with JetStream on a free
// loopback port with its store in a temporary directory ([RunServer]),
// connections ([Connect]), nodes on their own runtime ([StartNode]),
// clients ([NewClient]), and real `nats-server` processes routed into a
// cluster ([BuildNATSServer], [StartCluster]). Everything it starts stops
// when the test ends.
//
// # Waiting
//
// Tests wait for conditions by polling, never by sleeping a guessed
// amount: [CheckFor] with an explicit timeout and interval, [Eventually]
// with [Timeout] and a short, growing interval. [Context] bounds a test's
// calls by [Timeout].
//
// # Logs
//
// [Logger] keeps warnings and errors and shows them only when the test
// fails; [CapturingLogger] gives a [LogBuffer] a test can search.
package natstest
