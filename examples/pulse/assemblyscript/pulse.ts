// The pulse actor (examples/pulse/README.md) in AssemblyScript: timers and
// channels through the AssemblyScript SDK. A request is the msgpack array
// [op, id, delay-ms, interval-ms, payload]: "set" and "cancel" a timer,
// "publish" payload to the topic id, "count" what it received. A one-way
// message (a fired timer or a publication, a msgpack string) is counted;
// the state is [received, last payload].
import * as theater from "../../../actor/guest/assemblyscript/theater";
export { cabi_realloc, theater_abi_version } from "../../../actor/guest/assemblyscript/theater";

const BAD_REQUEST = "pulse: want [op, id, delay-ms, interval-ms, payload]";
const BAD_STATE = "pulse: bad state";

// takeHeader consumes the one-byte msgpack header marker (a fixarray or
// fixmap of n) at r's position.
function takeHeader(r: theater.Reader, marker: u8): bool {
  if (!r.ok || r.pos >= r.b.length || r.b[r.pos] != marker) return false;
  r.pos++;
  return true;
}

class State {
  constructor(public ok: bool, public n: u64, public last: string) {}
}

function parse(st: Uint8Array): State {
  const r = new theater.Reader(st);
  if (!takeHeader(r, 0x92)) return new State(false, 0, "");
  const n = r.uint();
  const last = r.str();
  return new State(r.ok && r.done(), n, last);
}

function encode(n: u64, last: string): Uint8Array {
  return new theater.Writer().arrayHeader(2).uint(n).str(last).finish();
}

// errText is the text of a call that failed: "theater: <what>: <case>"
// and, for a case that carries text, ": <text>" (the error is the msgpack
// map {case: value}).
function errText(what: string, res: theater.Returned): string {
  const head = "theater: " + what + ": ";
  const r = new theater.Reader(res.value);
  if (res.status != theater.ERR || !takeHeader(r, 0x81)) return head + "failed";
  const kase = r.str();
  if (!r.ok) return head + "failed";
  const text = r.str();
  return r.ok ? head + kase + ": " + text : head + kase;
}

export function theater_init(sp: usize, sl: usize): usize {
  return theater.init(sp, sl, (st: Uint8Array): theater.Result => {
    if (st.length == 0) return theater.ok(encode(0, ""));
    return parse(st).ok ? theater.ok(st) : theater.fail(BAD_STATE);
  });
}

export function theater_handle_send(sp: usize, sl: usize, mp: usize, ml: usize): usize {
  return theater.handleSend(sp, sl, mp, ml, (st: Uint8Array, msg: Uint8Array): theater.Result => {
    const s = parse(st);
    if (!s.ok) return theater.fail(BAD_STATE);
    const r = new theater.Reader(msg);
    const payload = r.str();
    if (!r.ok) return theater.fail("pulse: a message is a string");
    return theater.ok(encode(s.n + 1, payload));
  });
}

export function theater_handle_request(sp: usize, sl: usize, mp: usize, ml: usize): usize {
  return theater.handleRequest(sp, sl, mp, ml, (st: Uint8Array, msg: Uint8Array): theater.Result => {
    const s = parse(st);
    if (!s.ok) return theater.fail(BAD_STATE);
    const r = new theater.Reader(msg);
    if (!takeHeader(r, 0x95)) return theater.fail(BAD_REQUEST);
    const op = r.str();
    const id = r.str();
    const delay = r.uint();
    const interval = r.uint();
    const payload = r.str();
    if (!r.ok || delay > 0xffffffff || interval > 0xffffffff) return theater.fail(BAD_REQUEST);
    const sent = new theater.Writer().str(payload).finish();
    let answer = "ok";
    let res = new theater.Returned(theater.OK, new Uint8Array(0), 0);
    let what = "timer";
    if (op == "set") res = theater.setTimer(id, <u32>delay, <u32>interval, sent);
    else if (op == "cancel") res = theater.cancelTimer(id);
    else if (op == "publish") {
      res = theater.publish(id, sent);
      what = "channel";
    } else if (op == "count") answer = s.n.toString() + " " + s.last;
    else return theater.fail("pulse: unknown op");
    if (res.status != theater.OK) answer = errText(what, res);
    return theater.okReply(st, new theater.Writer().str(answer).finish());
  });
}
