// The counter actor (examples/counter/counter.wit) in AssemblyScript.
import * as theater from "../../../actor/guest/assemblyscript/theater";
export { cabi_realloc, theater_abi_version } from "../../../actor/guest/assemblyscript/theater";

const NOT_UINT = "counter: expected a msgpack uint";

// A decoded counter value; ok is false when the bytes are not one msgpack uint.
class Decoded {
  constructor(public ok: bool, public value: u64) {}
}

// decode reads one whole msgpack uint; empty state bytes mean 0.
function decode(b: Uint8Array, emptyOK: bool): Decoded {
  if (b.length == 0 && emptyOK) return new Decoded(true, 0);
  const r = new theater.Reader(b);
  const v = r.uint();
  return new Decoded(r.ok && r.done(), v);
}

function encode(v: u64): Uint8Array {
  return new theater.Writer().uint(v).finish();
}

// add is the counter's one operation: state + message, as the new state
// and the reply.
function add(state: Uint8Array, msg: Uint8Array): theater.Result {
  const n = decode(msg, false);
  const total = decode(state, true);
  if (!n.ok || !total.ok) return theater.fail(NOT_UINT);
  const out = encode(total.value + n.value);
  return theater.okReply(out, out);
}

export function theater_init(sp: usize, sl: usize): usize {
  return theater.init(sp, sl, (state: Uint8Array): theater.Result => {
    theater.log(theater.INFO, "counter started"); // best effort: the status is ignored
    if (!decode(state, true).ok) return theater.fail(NOT_UINT);
    return theater.ok(state.length == 0 ? encode(0) : state);
  });
}

export function theater_handle_send(sp: usize, sl: usize, mp: usize, ml: usize): usize {
  return theater.handleSend(sp, sl, mp, ml, (state: Uint8Array, msg: Uint8Array): theater.Result => {
    const r = add(state, msg);
    r.reply = null;
    return r;
  });
}

export function theater_handle_request(sp: usize, sl: usize, mp: usize, ml: usize): usize {
  return theater.handleRequest(sp, sl, mp, ml, add);
}

export function theater_on_stop(sp: usize, sl: usize): usize {
  return theater.onStop(sp, sl, (state: Uint8Array): theater.Result => theater.ok(state));
}
