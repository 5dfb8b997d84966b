// A test actor for the AssemblyScript SDK's msgpack encoders: every
// request is answered with the same tuple of values (the list in
// actor/guest/canonical_test.go), which must be the codec's canonical
// bytes.
import * as theater from "../theater";
export { cabi_realloc, theater_abi_version } from "../theater";

function repeated(c: u8, n: i32): Uint8Array {
  const b = new Uint8Array(n);
  b.fill(c);
  return b;
}

function values(): Uint8Array {
  const w = new theater.Writer();
  w.arrayHeader(43);
  w.bool(true).bool(false).nil();
  w.uint(0).uint(127).uint(128).uint(255).uint(256).uint(65536).uint(4294967296).uint(u64.MAX_VALUE);
  w.int(-1).int(-32).int(-33).int(-128).int(-129).int(-32769).int(-2147483649).int(i64.MIN_VALUE);
  w.int(200).int(i64.MAX_VALUE);
  w.f32(1.5).f32(-0.0).f32(reinterpret<f32>(<u32>0xffc00005));
  w.f64(0.1).f64(-0.0).f64(reinterpret<f64>(<u64>0x7ff8000000000005)).f64(Infinity);
  w.str("").str("a".repeat(31)).str("b".repeat(32)).str("c".repeat(256)).str("é");
  w.bin(repeated(0, 0)).bin(repeated(7, 255)).bin(repeated(8, 256));
  w.arrayHeader(15);
  for (let i: u64 = 0; i < 15; i++) w.uint(i);
  w.arrayHeader(16);
  for (let i: u64 = 0; i < 16; i++) w.uint(i * 1000);
  w.mapHeader(2).str("x").uint(1).str("y").int(-2); // record point { x: u32, y: s32 }
  w.mapHeader(16); // map<s16, bool>, keys ascending
  for (let i: i64 = -8; i < 8; i++) w.int(i * 100).bool(i % 2 == 0);
  w.mapHeader(1).str("circle").f32(2.0); // variant shape { circle(f32), none }
  w.arrayHeader(2).str("read").str("exec"); // flags perms { read, write, exec }
  w.mapHeader(1).str("err").str("x"); // result<u32, string>
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
    theater.okReply(state, values()),
  );
}
