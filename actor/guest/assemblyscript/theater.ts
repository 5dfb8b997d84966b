// theater.ts: the AssemblyScript SDK for Theater actors (docs/ABI.md,
// version 1). Compile the actor's entry file with the stub runtime and no
// abort import:
//
//   asc actor.ts -o actor.wasm -O3 --noAssert --runtime stub --use abort=
//
// The entry file re-exports cabi_realloc and theater_abi_version from here
// and exports the four handlers, each a one-line call into this library:
//
//   export { cabi_realloc, theater_abi_version } from ".../theater";
//   export function theater_handle_send(sp: usize, sl: usize, mp: usize, ml: usize): usize {
//     return theater.handleSend(sp, sl, mp, ml, (state: Uint8Array, msg: Uint8Array): theater.Result => ...);
//   }
//
// Memory: the stub runtime never frees, so the SDK empties the whole heap
// the first time the guest is entered after a handler returned (the ABI's
// lifetime for what a handler returns; not at handler entry, because the
// host allocates a handler's arguments just before calling it). So an
// actor must keep nothing on the heap between calls -- not even objects
// made by top-level code; lasting data belongs in the state.

// ---- memory ---------------------------------------------------------------

let resetPending = false;

function enter(): void {
  if (resetPending) {
    resetPending = false;
    __reset(); // the stub runtime's "forget every allocation"
  }
}

export function cabi_realloc(oldPtr: usize, oldSize: usize, align: usize, newSize: usize): usize {
  enter();
  // __alloc aligns to 16; over-allocate for larger alignments.
  let p = __alloc(align > 16 ? newSize + align : newSize);
  if (align > 16) p = (p + align - 1) & ~(align - 1);
  if (oldPtr != 0) memory.copy(p, oldPtr, min(oldSize, newSize));
  return p;
}

export function theater_abi_version(): i32 {
  return 1;
}

// ---- handlers --------------------------------------------------------------

// What a handler returns: ok with the new state (and a reply, for
// requests), or an error message.
export class Result {
  constructor(
    public error: string | null,
    public state: Uint8Array | null,
    public reply: Uint8Array | null,
  ) {}
}

export function ok(state: Uint8Array): Result {
  return new Result(null, state, null);
}

export function okReply(state: Uint8Array, reply: Uint8Array): Result {
  return new Result(null, state, reply);
}

export function fail(message: string): Result {
  return new Result(message, null, null);
}

// bytes copies len bytes at ptr (handler arguments) into a Uint8Array.
export function bytes(ptr: usize, len: usize): Uint8Array {
  const a = new Uint8Array(<i32>len);
  memory.copy(a.dataStart, ptr, len);
  return a;
}

function putPart(area: usize, i: i32, b: Uint8Array | null): void {
  if (b === null) return;
  store<u32>(area + 4 + 8 * i, <u32>b.dataStart);
  store<u32>(area + 8 + 8 * i, <u32>b.byteLength);
}

// finish writes the return area: tag at byte 0, (ptr, len) pairs at 4.
function finish(r: Result): usize {
  const area = __alloc(20);
  memory.fill(area, 0, 20);
  const err = r.error;
  if (err !== null) {
    store<u32>(area, 1);
    putPart(area, 0, Uint8Array.wrap(String.UTF8.encode(err)));
  } else {
    putPart(area, 0, r.state);
    putPart(area, 1, r.reply);
  }
  resetPending = true;
  return area;
}

export function init(sp: usize, sl: usize, f: (state: Uint8Array) => Result): usize {
  enter();
  return finish(f(bytes(sp, sl)));
}

export function onStop(sp: usize, sl: usize, f: (state: Uint8Array) => Result): usize {
  enter();
  return finish(f(bytes(sp, sl)));
}

export function handleSend(
  sp: usize, sl: usize, mp: usize, ml: usize,
  f: (state: Uint8Array, msg: Uint8Array) => Result,
): usize {
  enter();
  return finish(f(bytes(sp, sl), bytes(mp, ml)));
}

export function handleRequest(
  sp: usize, sl: usize, mp: usize, ml: usize,
  f: (state: Uint8Array, msg: Uint8Array) => Result,
): usize {
  enter();
  return finish(f(bytes(sp, sl), bytes(mp, ml)));
}

// ---- host functions -------------------------------------------------------

// Status codes of host calls (ABI.md).
export const OK: i32 = 0;
export const ERR: i32 = 1; // value holds the msgpack message.error
export const FAULT: i32 = -1;
export const INVALID: i32 = -2;
export const NO_MEMORY: i32 = -3;
export const TOO_LARGE: i32 = -4;
export const UNAVAILABLE: i32 = -5;

// log.level
export const DEBUG: i32 = 0;
export const INFO: i32 = 1;
export const WARN: i32 = 2;
export const ERROR: i32 = 3;

@external("theater:actor/log@0.1.0", "write")
declare function logWrite(level: i32, ptr: usize, len: usize): i32;
@external("theater:actor/runtime@0.1.0", "self-id")
declare function runtimeSelfId(retptr: usize): i32;
@external("theater:actor/message@0.1.0", "send")
declare function messageSend(to: usize, toLen: usize, p: usize, pLen: usize, retptr: usize): i32;
@external("theater:actor/message@0.1.0", "request")
declare function messageRequest(to: usize, toLen: usize, p: usize, pLen: usize, timeoutMs: u32, retptr: usize): i32;
@external("theater:actor/clock@0.1.0", "now")
declare function clockNow(retptr: usize): i32;
@external("theater:actor/random@0.1.0", "bytes")
declare function randomBytes(n: u32, retptr: usize): i32;
@external("theater:actor/http-client@0.1.0", "send")
declare function httpClientSend(req: usize, reqLen: usize, retptr: usize): i32;
@external("theater:actor/store@0.1.0", "get")
declare function storeGet(ns: usize, nsLen: usize, key: usize, keyLen: usize, retptr: usize): i32;
@external("theater:actor/store@0.1.0", "put")
declare function storePut(ns: usize, nsLen: usize, key: usize, keyLen: usize, v: usize, vLen: usize, c: usize, cLen: usize, retptr: usize): i32;
@external("theater:actor/store@0.1.0", "delete")
declare function storeDelete(ns: usize, nsLen: usize, key: usize, keyLen: usize, c: usize, cLen: usize, retptr: usize): i32;
@external("theater:actor/store@0.1.0", "list-keys")
declare function storeListKeys(ns: usize, nsLen: usize, retptr: usize): i32;
@external("theater:actor/config@0.1.0", "get")
declare function configGet(name: usize, nameLen: usize, retptr: usize): i32;
@external("theater:actor/channel@0.1.0", "publish")
declare function channelPublish(topic: usize, topicLen: usize, p: usize, pLen: usize, retptr: usize): i32;
@external("theater:actor/timer@0.1.0", "set")
declare function timerSet(id: usize, idLen: usize, delayMs: u32, intervalMs: u32, p: usize, pLen: usize, retptr: usize): i32;
@external("theater:actor/timer@0.1.0", "cancel")
declare function timerCancel(id: usize, idLen: usize, retptr: usize): i32;
@external("theater:actor/log@0.1.0", "write-fields")
declare function logWriteFields(level: i32, ptr: usize, len: usize, f: usize, fLen: usize): i32;

// What a host call gave back: its status, and its result when there is one.
export class Returned {
  constructor(public status: i32, public value: Uint8Array, public num: u64) {}
}

// Return area for imports, in static memory so it never moves.
const ret = memory.data(8, 8);

function returned(status: i32): Returned {
  if (status == OK || status == ERR) {
    return new Returned(status, bytes(load<u32>(ret), load<u32>(ret, 4)), 0);
  }
  return new Returned(status, new Uint8Array(0), 0);
}

export function log(level: i32, msg: string): i32 {
  const b = String.UTF8.encode(msg);
  return logWrite(level, changetype<usize>(b), <usize>b.byteLength);
}

// log.write-fields: keys and values are the fields, pairwise; the host
// logs each as an attribute of the line.
export function logFields(level: i32, msg: string, keys: string[], values: string[]): i32 {
  const w = new Writer().arrayHeader(keys.length);
  for (let i = 0; i < keys.length; i++) {
    w.mapHeader(2).str("key").str(keys[i]).str("value").str(values[i]);
  }
  const f = w.finish();
  const b = String.UTF8.encode(msg);
  return logWriteFields(level, changetype<usize>(b), <usize>b.byteLength, f.dataStart, f.byteLength);
}

// channel.publish: payload is a msgpack value of the subscribers' send
// type; value is the msgpack channel.error on ERR, nothing on OK. The
// host publishes it once the handler's event is durable.
export function publish(topic: string, payload: Uint8Array): Returned {
  const t = String.UTF8.encode(topic);
  return noValueOnOK(channelPublish(changetype<usize>(t), t.byteLength, payload.dataStart, payload.byteLength, ret));
}

// timer.set: delivers payload (a msgpack value of the actor's send type)
// into the actor's own mailbox once, delayMs after the handler's event is
// durable, or every intervalMs (at least 1000) when that is not 0; setting
// an id again replaces its timer. timer.cancel cancels it, once the event
// is durable. value is the msgpack timer.error on ERR, nothing on OK.
export function setTimer(id: string, delayMs: u32, intervalMs: u32, payload: Uint8Array): Returned {
  const t = String.UTF8.encode(id);
  return noValueOnOK(timerSet(changetype<usize>(t), t.byteLength, delayMs, intervalMs, payload.dataStart, payload.byteLength, ret));
}

export function cancelTimer(id: string): Returned {
  const t = String.UTF8.encode(id);
  return noValueOnOK(timerCancel(changetype<usize>(t), t.byteLength, ret));
}

// noValueOnOK is returned for a call whose ok result is none: the return
// area holds nothing then.
function noValueOnOK(st: i32): Returned {
  return st == OK ? new Returned(st, new Uint8Array(0), 0) : returned(st);
}

export function selfId(): Returned {
  return returned(runtimeSelfId(ret));
}

export function send(to: string, payload: Uint8Array): Returned {
  const t = String.UTF8.encode(to);
  return returned(messageSend(changetype<usize>(t), t.byteLength, payload.dataStart, payload.byteLength, ret));
}

export function request(to: string, payload: Uint8Array, timeoutMs: u32): Returned {
  const t = String.UTF8.encode(to);
  return returned(messageRequest(changetype<usize>(t), t.byteLength, payload.dataStart, payload.byteLength, timeoutMs, ret));
}

export function now(): Returned {
  const st = clockNow(ret);
  return new Returned(st, new Uint8Array(0), st == OK ? load<u64>(ret) : 0);
}

export function random(n: u32): Returned {
  return returned(randomBytes(n, ret));
}

// http-client.send: req is the msgpack http-client.request (fields in WIT
// order: method, url, headers, body). value is the msgpack response on OK,
// the msgpack http-client.error on ERR.
export function http(req: Uint8Array): Returned {
  return returned(httpClientSend(req.dataStart, req.byteLength, ret));
}

// store.condition kinds (docs/ABI.md, "The store capability").
export const ALWAYS: i32 = 0;
export const ABSENT: i32 = 1;
export const IF_REVISION: i32 = 2;

// condition returns the msgpack store.condition of kind (rev for IF_REVISION).
export function condition(kind: i32, rev: u64): Uint8Array {
  const w = new Writer().mapHeader(1);
  if (kind == ABSENT) w.str("absent").nil();
  else if (kind == IF_REVISION) w.str("revision").uint(rev);
  else w.str("always").nil();
  return w.finish();
}

// Store calls on namespace ns ("" is the actor's own). value is the msgpack
// option<entry> (get) or list<string> (keys) on OK; the msgpack store.error
// on ERR for every call; put and delete give nothing on OK.
export function kvGet(ns: string, key: string): Returned {
  const n = String.UTF8.encode(ns), k = String.UTF8.encode(key);
  return returned(storeGet(changetype<usize>(n), n.byteLength, changetype<usize>(k), k.byteLength, ret));
}

export function kvPut(ns: string, key: string, value: Uint8Array, kind: i32, rev: u64): Returned {
  const n = String.UTF8.encode(ns), k = String.UTF8.encode(key), c = condition(kind, rev);
  const st = storePut(changetype<usize>(n), n.byteLength, changetype<usize>(k), k.byteLength,
    value.dataStart, value.byteLength, c.dataStart, c.byteLength, ret);
  return st == OK ? new Returned(st, new Uint8Array(0), 0) : returned(st);
}

export function kvDelete(ns: string, key: string, kind: i32, rev: u64): Returned {
  const n = String.UTF8.encode(ns), k = String.UTF8.encode(key), c = condition(kind, rev);
  const st = storeDelete(changetype<usize>(n), n.byteLength, changetype<usize>(k), k.byteLength, c.dataStart, c.byteLength, ret);
  return st == OK ? new Returned(st, new Uint8Array(0), 0) : returned(st);
}

export function kvKeys(ns: string): Returned {
  const n = String.UTF8.encode(ns);
  return returned(storeListKeys(changetype<usize>(n), n.byteLength, ret));
}

// config.get: value is the value's UTF-8 (not msgpack) on OK, the msgpack
// config.error on ERR.
export function config(name: string): Returned {
  const n = String.UTF8.encode(name);
  return returned(configGet(changetype<usize>(n), n.byteLength, ret));
}

// ---- msgpack (canonical encodings out, every encoding in) ------------------

// Writer builds a msgpack value in the canonical form of docs/WIT-MSGPACK.md:
// integers in their smallest encoding by value (whatever the WIT type), f32
// as float32 and f64 as float64 with one NaN, the smallest headers. The
// caller writes record fields in WIT order, flags in declaration order and
// map entries in ascending key order (integers by value, strings by bytes).
export class Writer {
  buf: Uint8Array = new Uint8Array(16);
  len: i32 = 0;

  private grow(n: i32): void {
    if (this.len + n <= this.buf.length) return;
    const b = new Uint8Array(max(this.buf.length * 2, this.len + n));
    b.set(this.buf);
    this.buf = b;
  }

  private be(marker: u8, v: u64, size: i32): void {
    this.grow(1 + size);
    this.buf[this.len++] = marker;
    for (let i = size - 1; i >= 0; i--) this.buf[this.len++] = <u8>(v >> (8 * <u64>i));
  }

  nil(): Writer {
    this.be(0xc0, 0, 0);
    return this;
  }

  bool(v: bool): Writer {
    this.be(v ? 0xc3 : 0xc2, 0, 0);
    return this;
  }

  // int writes negative values in the signed encodings, the rest as uints.
  int(v: i64): Writer {
    if (v >= 0) return this.uint(<u64>v);
    if (v >= -32) this.be(<u8>v, 0, 0);
    else if (v >= -128) this.be(0xd0, <u64>v, 1);
    else if (v >= -32768) this.be(0xd1, <u64>v, 2);
    else if (v >= -2147483648) this.be(0xd2, <u64>v, 4);
    else this.be(0xd3, <u64>v, 8);
    return this;
  }

  f32(v: f32): Writer {
    this.be(0xca, isNaN(v) ? 0x7fc00000 : <u64>reinterpret<u32>(v), 4);
    return this;
  }

  f64(v: f64): Writer {
    this.be(0xcb, isNaN(v) ? 0x7ff8000000000000 : reinterpret<u64>(v), 8);
    return this;
  }

  arrayHeader(n: u32): Writer {
    return this.count(0x90, 0xdc, n);
  }

  mapHeader(n: u32): Writer {
    return this.count(0x80, 0xde, n);
  }

  private count(fix: u8, first: u8, n: u32): Writer {
    if (n < 16) this.be(fix | <u8>n, 0, 0);
    else if (n <= 0xffff) this.be(first, n, 2);
    else this.be(first + 1, n, 4);
    return this;
  }

  uint(v: u64): Writer {
    if (v < 0x80) this.be(<u8>v, 0, 0);
    else if (v <= 0xff) this.be(0xcc, v, 1);
    else if (v <= 0xffff) this.be(0xcd, v, 2);
    else if (v <= 0xffffffff) this.be(0xce, v, 4);
    else this.be(0xcf, v, 8);
    return this;
  }

  str(s: string): Writer {
    const b = Uint8Array.wrap(String.UTF8.encode(s));
    const n = <u64>b.length;
    if (n < 32) this.be(<u8>(0xa0 | n), 0, 0);
    else if (n <= 0xff) this.be(0xd9, n, 1);
    else if (n <= 0xffff) this.be(0xda, n, 2);
    else this.be(0xdb, n, 4);
    return this.raw(b);
  }

  bin(b: Uint8Array): Writer {
    const n = <u64>b.length;
    if (n <= 0xff) this.be(0xc4, n, 1);
    else if (n <= 0xffff) this.be(0xc5, n, 2);
    else this.be(0xc6, n, 4);
    return this.raw(b);
  }

  private raw(b: Uint8Array): Writer {
    this.grow(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
    return this;
  }

  finish(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }
}

// Reader takes msgpack values from the front of some bytes. A read that
// finds something else sets ok to false and returns a zero value.
export class Reader {
  pos: i32 = 0;
  ok: bool = true;

  constructor(public b: Uint8Array) {}

  done(): bool {
    return this.pos == this.b.length;
  }

  private be(size: i32): u64 {
    if (!this.ok || this.pos + size > this.b.length) {
      this.ok = false;
      return 0;
    }
    let v: u64 = 0;
    for (let i = 0; i < size; i++) v = (v << 8) | <u64>this.b[this.pos++];
    return v;
  }

  private marker(): i32 {
    if (!this.ok || this.pos >= this.b.length) {
      this.ok = false;
      return -1;
    }
    return this.b[this.pos++];
  }

  uint(): u64 {
    const c = this.marker();
    if (c >= 0 && c < 0x80) return <u64>c;
    if (c >= 0xcc && c <= 0xcf) return this.be(1 << (c - 0xcc));
    this.ok = false;
    return 0;
  }

  private sized(fix: i32, fixMax: i32, first: i32): Uint8Array {
    const c = this.marker();
    let n: u64 = 0;
    if (c >= fix && c < fix + fixMax) n = <u64>(c - fix);
    else if (c >= first && c <= first + 2) n = this.be(1 << (c - first));
    else this.ok = false;
    if (!this.ok || n > <u64>(this.b.length - this.pos)) {
      this.ok = false;
      return new Uint8Array(0);
    }
    const out = this.b.subarray(this.pos, this.pos + <i32>n);
    this.pos += <i32>n;
    return out;
  }

  str(): string {
    const b = this.sized(0xa0, 32, 0xd9);
    return String.UTF8.decodeUnsafe(b.dataStart, b.length);
  }

  bin(): Uint8Array {
    return this.sized(0, 0, 0xc4);
  }
}
