;; oobptr.wat: calls host functions with pointers and lengths outside
;; linear memory and reports the statuses it got, each of which must be
;; -1 (fault). handle-request replies, and handle-send sets the state to,
;; a msgpack array of the 7 statuses as fixints (-1 is 0xff):
;;   0 log.write, message pointer at the first byte past memory
;;   1 log.write, ptr + len wraps around 2^32
;;   2 message.send, `to` straddles the end of memory
;;   3 message.send, payload far outside memory
;;   4 message.send, retptr's 8-byte area straddles the end of memory
;;   5 message.request, retptr outside memory
;;   6 runtime.self-id, retptr outside memory
;; The other arguments are valid (to = "peer"), so a fault must be found
;; before anything else is looked at. The manifest must grant log,
;; message (to "peer") and runtime.
;; Everything else is a complete, ABI-conforming actor (docs/ABI.md v1).
(module
  (import "theater:actor/log@0.1.0" "write" (func $log_write (param i32 i32 i32) (result i32)))
  (import "theater:actor/message@0.1.0" "send" (func $send (param i32 i32 i32 i32 i32) (result i32)))
  (import "theater:actor/message@0.1.0" "request" (func $request (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "theater:actor/runtime@0.1.0" "self-id" (func $self_id (param i32) (result i32)))

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

  ;; Return area at 16: tag, then (ptr, len) pairs. init behaves: the
  ;; state comes back unchanged, so the actor spawns.
  (func $ok (param $sp i32) (param $sl i32) (param $rp i32) (param $rl i32) (result i32)
    (i32.store (i32.const 16) (i32.const 0))
    (i32.store (i32.const 20) (local.get $sp))
    (i32.store (i32.const 24) (local.get $sl))
    (i32.store (i32.const 28) (local.get $rp))
    (i32.store (i32.const 32) (local.get $rl))
    (i32.const 16))

  (func (export "theater_init") (param $sp i32) (param $sl i32) (result i32)
    (call $ok (local.get $sp) (local.get $sl) (i32.const 0) (i32.const 0)))

  (data (i32.const 96) "peer")
  (data (i32.const 100) "\c0") ;; payload: msgpack nil

  ;; $probe writes the reply at 300: 0x97, then one byte per status.
  (func $probe
    (local $end i32)
    (local.set $end (i32.shl (memory.size) (i32.const 16)))
    (i32.store8 (i32.const 300) (i32.const 0x97))
    (i32.store8 (i32.const 301)
      (call $log_write (i32.const 1) (local.get $end) (i32.const 1)))
    (i32.store8 (i32.const 302)
      (call $log_write (i32.const 1) (i32.const 0xfffffff0) (i32.const 0x20)))
    (i32.store8 (i32.const 303)
      (call $send (i32.sub (local.get $end) (i32.const 2)) (i32.const 4)
        (i32.const 100) (i32.const 1) (i32.const 200)))
    (i32.store8 (i32.const 304)
      (call $send (i32.const 96) (i32.const 4)
        (i32.const 0xffffff00) (i32.const 16) (i32.const 200)))
    (i32.store8 (i32.const 305)
      (call $send (i32.const 96) (i32.const 4)
        (i32.const 100) (i32.const 1) (i32.sub (local.get $end) (i32.const 4))))
    (i32.store8 (i32.const 306)
      (call $request (i32.const 96) (i32.const 4)
        (i32.const 100) (i32.const 1) (i32.const 0) (i32.const 0xfffffff8)))
    (i32.store8 (i32.const 307)
      (call $self_id (i32.const 0xfffffffc))))

  (func (export "theater_handle_send") (param i32 i32 i32 i32) (result i32)
    (call $probe)
    (call $ok (i32.const 300) (i32.const 8) (i32.const 0) (i32.const 0)))

  (func (export "theater_handle_request") (param $sp i32) (param $sl i32) (param i32 i32) (result i32)
    (call $probe)
    (call $ok (local.get $sp) (local.get $sl) (i32.const 300) (i32.const 8))))
