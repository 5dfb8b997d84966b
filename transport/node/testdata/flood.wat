;; flood.wat: a guest that asks the host for too much, for the node's
;; budget tests. Its state is a target actor id (raw bytes). A request's
;; message is a msgpack fixint naming what to do, 10000 times over:
;;   1  log.write a 1 KiB line
;;   2  message.send the message to the target
;;   3  message.request the target with the message, once (2 s timeout)
;; and the reply is how many of those host calls returned status 0, as a
;; msgpack u32. A send does nothing and keeps the state. The heap is
;; reset as a request returns (the host has copied the state and the
;; message in before the call and reads the results before the next), so
;; the error variants of refused calls do not pile up (docs/ABI.md v1).
(module
  (import "theater:actor/log@0.1.0" "write"
    (func $write (param i32 i32 i32) (result i32)))
  (import "theater:actor/message@0.1.0" "send"
    (func $send (param i32 i32 i32 i32 i32) (result i32)))
  (import "theater:actor/message@0.1.0" "request"
    (func $request (param i32 i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)

  ;; Bump allocator that never frees, above the line at 2048.
  (global $heap (mut i32) (i32.const 4096))
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
    (if (local.get $old_ptr)
      (then (memory.copy (local.get $p) (local.get $old_ptr) (local.get $old_size))))
    (local.get $p))

  (func (export "theater_abi_version") (result i32) (i32.const 1))

  ;; Return area at 16: tag 0, then (state ptr, len), (reply ptr, len).
  (func $ok (param $sp i32) (param $sl i32) (param $rp i32) (param $rl i32) (result i32)
    (i32.store (i32.const 16) (i32.const 0))
    (i32.store (i32.const 20) (local.get $sp))
    (i32.store (i32.const 24) (local.get $sl))
    (i32.store (i32.const 28) (local.get $rp))
    (i32.store (i32.const 32) (local.get $rl))
    (i32.const 16))

  (func (export "theater_init") (param $sp i32) (param $sl i32) (result i32)
    (call $ok (local.get $sp) (local.get $sl) (i32.const 0) (i32.const 0)))

  (func (export "theater_handle_send") (param $sp i32) (param $sl i32) (param $mp i32) (param $ml i32) (result i32)
    (call $ok (local.get $sp) (local.get $sl) (i32.const 0) (i32.const 0)))

  ;; The 1 KiB log line: 1024 'x' at 2048.
  (func $fill
    (memory.fill (i32.const 2048) (i32.const 0x78) (i32.const 1024)))

  (func (export "theater_handle_request") (param $sp i32) (param $sl i32) (param $mp i32) (param $ml i32) (result i32)
    (local $mode i32) (local $i i32) (local $n i32) (local $okn i32)
    (local.set $mode (i32.load8_u (local.get $mp)))
    (local.set $n (select (i32.const 1) (i32.const 10000) (i32.eq (local.get $mode) (i32.const 3))))
    (call $fill)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (if (i32.eqz
              (if (result i32) (i32.eq (local.get $mode) (i32.const 1))
                (then (call $write (i32.const 1) (i32.const 2048) (i32.const 1024)))
                (else
                  (if (result i32) (i32.eq (local.get $mode) (i32.const 2))
                    (then (call $send (local.get $sp) (local.get $sl) (local.get $mp) (local.get $ml) (i32.const 64)))
                    (else (call $request (local.get $sp) (local.get $sl) (local.get $mp) (local.get $ml) (i32.const 2000) (i32.const 64)))))))
          (then (local.set $okn (i32.add (local.get $okn) (i32.const 1)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    ;; The reply at 128: msgpack uint16 (0xcd, big-endian count).
    (i32.store8 (i32.const 128) (i32.const 0xcd))
    (i32.store8 (i32.const 129) (i32.shr_u (local.get $okn) (i32.const 8)))
    (i32.store8 (i32.const 130) (local.get $okn))
    (global.set $heap (i32.const 4096))
    (call $ok (local.get $sp) (local.get $sl) (i32.const 128) (i32.const 3)))
)
