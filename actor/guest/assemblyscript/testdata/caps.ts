// A test actor for the AssemblyScript SDK's store, config, http-client,
// channel and log-fields wrappers: the same calls as actor/guest/c/testdata/caps.c, answered with
// a msgpack array of [status, result bytes] pairs, which
// actor/host_store_test.go checks against the host's encodings.
import * as theater from "../theater";
export { cabi_realloc, theater_abi_version } from "../theater";

function pair(w: theater.Writer, r: theater.Returned): void {
  w.arrayHeader(2).int(r.status).bin(r.value);
}

function calls(): Uint8Array {
  const one = String.UTF8.encode("1");
  const w = new theater.Writer();
  w.arrayHeader(12);
  pair(w, theater.kvPut("", "a", Uint8Array.wrap(one), theater.ALWAYS, 0));
  pair(w, theater.kvGet("", "a"));
  pair(w, theater.kvPut("", "a", Uint8Array.wrap(one), theater.ABSENT, 0));
  pair(w, theater.kvPut("", "a", Uint8Array.wrap(one), theater.IF_REVISION, 1));
  pair(w, theater.kvKeys(""));
  pair(w, theater.kvDelete("", "a", theater.ALWAYS, 0));
  pair(w, theater.kvGet("team", "x"));
  pair(w, theater.config("model"));
  const req = new theater.Writer().mapHeader(4)
    .str("method").str("GET").str("url").str("https://denied.example/")
    .str("headers").arrayHeader(0).str("body").bin(new Uint8Array(0)).finish();
  pair(w, theater.http(req));
  const hi = new theater.Writer().str("hi").finish();
  pair(w, theater.publish("jobs.a", hi));
  pair(w, theater.publish("other", hi));
  pair(w, new theater.Returned(theater.logFields(theater.INFO, "fields", ["k"], ["v"]), new Uint8Array(0), 0));
  return w.finish();
}

export function theater_init(sp: usize, sl: usize): usize {
  return theater.init(sp, sl, (state: Uint8Array): theater.Result => theater.ok(state));
}

export function theater_handle_send(sp: usize, sl: usize, mp: usize, ml: usize): usize {
  return theater.handleSend(sp, sl, mp, ml, (state: Uint8Array, msg: Uint8Array): theater.Result => theater.ok(state));
}

export function theater_handle_request(sp: usize, sl: usize, mp: usize, ml: usize): usize {
  return theater.handleRequest(sp, sl, mp, ml, (state: Uint8Array, msg: Uint8Array): theater.Result =>
    theater.okReply(state, calls()),
  );
}
