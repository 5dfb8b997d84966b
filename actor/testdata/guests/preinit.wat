;; preinit.wat: a module whose initialisation leaves state everywhere an
;; image must hold it, for the pre-initialisation tests. The start function
;; sets a global; _initialize reads the monotonic clock into memory at 64,
;; 8 random bytes to 72, grows memory by a page and writes
;; 0x1122334455667788 at 65544, and keeps the clock reading plus one in a
;; global nobody exports. request replies with 48 bytes: the clock reading
;; of _initialize, its random bytes, the unexported global, the start
;; function's global (u32), memory.size (u32), a clock reading made now,
;; and the u64 at 65544.
(module
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func $random (param i32 i32) (result i32)))
  (memory (export "memory") 1)

  ;; Bump allocator that never frees: a test makes only a few calls.
  (global $heap (mut i32) (i32.const 1024))
  (func (export "cabi_realloc") (param $old_ptr i32) (param $old_size i32) (param $align i32) (param $new_size i32) (result i32)
    (local $p i32) (local $end i64)
    (local.set $p (i32.and (i32.add (global.get $heap) (i32.const 7)) (i32.const -8)))
    (local.set $end (i64.add (i64.extend_i32_u (local.get $p)) (i64.extend_i32_u (local.get $new_size))))
    (if (i64.gt_u (local.get $end) (i64.shl (i64.extend_i32_u (memory.size)) (i64.const 16)))
      (then
        (if (i32.eq (i32.const -1)
              (memory.grow (i32.wrap_i64 (i64.shr_u
                (i64.sub (i64.add (local.get $end) (i64.const 0xffff))
                         (i64.shl (i64.extend_i32_u (memory.size)) (i64.const 16)))
                (i64.const 16)))))
          (then (return (i32.const 0))))))
    (global.set $heap (i32.wrap_i64 (local.get $end)))
    (local.get $p))

  (func (export "theater_abi_version") (result i32) (i32.const 1))

  ;; Return area at 16: tag, then (ptr, len) pairs.
  (func $ok (param $sp i32) (param $sl i32) (param $rp i32) (param $rl i32) (result i32)
    (i32.store (i32.const 16) (i32.const 0))
    (i32.store (i32.const 20) (local.get $sp))
    (i32.store (i32.const 24) (local.get $sl))
    (i32.store (i32.const 28) (local.get $rp))
    (i32.store (i32.const 32) (local.get $rl))
    (i32.const 16))

  (func (export "theater_init") (param $sp i32) (param $sl i32) (result i32)
    (call $ok (local.get $sp) (local.get $sl) (i32.const 0) (i32.const 0)))

  (func (export "theater_handle_send") (param i32 i32 i32 i32) (result i32) (unreachable))

  (global $seen (mut i64) (i64.const 0))
  (global $started (mut i32) (i32.const 0))
  (func $start (global.set $started (i32.const 7)))
  (start $start)

  (func (export "_initialize")
    (drop (call $clock (i32.const 1) (i64.const 0) (i32.const 64)))
    (drop (call $random (i32.const 72) (i32.const 8)))
    (drop (memory.grow (i32.const 1)))
    (i64.store (i32.const 65544) (i64.const 0x1122334455667788))
    (global.set $seen (i64.add (i64.load (i32.const 64)) (i64.const 1))))

  (func (export "theater_handle_request") (param $sp i32) (param $sl i32) (param $mp i32) (param $ml i32) (result i32)
    (i64.store (i32.const 100) (i64.load (i32.const 64)))
    (i64.store (i32.const 108) (i64.load (i32.const 72)))
    (i64.store (i32.const 116) (global.get $seen))
    (i32.store (i32.const 124) (global.get $started))
    (i32.store (i32.const 128) (memory.size))
    (drop (call $clock (i32.const 1) (i64.const 0) (i32.const 132)))
    (i64.store (i32.const 140) (i64.load (i32.const 65544)))
    (call $ok (local.get $sp) (local.get $sl) (i32.const 100) (i32.const 48)))
)
