;; diverge.wat: a guest built to diverge on replay. It counts its handler
;; calls in a global, which is not part of its state, so the count starts
;; again whenever the instance is recreated (hibernation), which only a
;; wake event in the chain shows. Request replies with the count (a fixint); from
;; the 4th call of an instance on, a handler reads clock.now first. Send
;; does the same, without a reply. The state passes through unchanged.
;;
;; Live with a hibernation after 3 requests, the 4th request runs in a
;; fresh instance (count 1, no clock read); replayed in one instance it is
;; the 4th call and reads the clock, a host call the record does not have.
(module
  (import "theater:actor/clock@0.1.0" "now" (func $now (param i32) (result i32)))
  (memory (export "memory") 1)

  (global $calls (mut i32) (i32.const 0))

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

  ;; Return area at 16: tag, then (ptr, len) pairs; the reply byte at 64;
  ;; clock.now writes its u64 at 128.
  (func $ok (param $sp i32) (param $sl i32) (param $rp i32) (param $rl i32) (result i32)
    (i32.store (i32.const 16) (i32.const 0))
    (i32.store (i32.const 20) (local.get $sp))
    (i32.store (i32.const 24) (local.get $sl))
    (i32.store (i32.const 28) (local.get $rp))
    (i32.store (i32.const 32) (local.get $rl))
    (i32.const 16))

  ;; $count counts this call and reads the clock from the 4th on.
  (func $count
    (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    (if (i32.gt_u (global.get $calls) (i32.const 3))
      (then (drop (call $now (i32.const 128)))))
    (i32.store8 (i32.const 64) (i32.and (global.get $calls) (i32.const 0x7f))))

  (func (export "theater_init") (param $sp i32) (param $sl i32) (result i32)
    (call $ok (local.get $sp) (local.get $sl) (i32.const 0) (i32.const 0)))

  (func (export "theater_handle_send") (param $sp i32) (param $sl i32) (param $mp i32) (param $ml i32) (result i32)
    (call $count)
    (call $ok (local.get $sp) (local.get $sl) (i32.const 0) (i32.const 0)))

  (func (export "theater_handle_request") (param $sp i32) (param $sl i32) (param $mp i32) (param $ml i32) (result i32)
    (call $count)
    (call $ok (local.get $sp) (local.get $sl) (i32.const 64) (i32.const 1))))
