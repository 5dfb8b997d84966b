;; A minimal echo actor for benchmarks (docs/ABI.md version 1): a request's
;; reply is its message, sends do nothing, and the state never changes. It
;; copies nothing: the return area points at the blocks the host wrote the
;; state and message into, which stay valid until the next entry.
(module
  (memory (export "memory") 1)

  ;; Bump heap for the host's cabi_realloc calls, from 1024; the return
  ;; area is at 16.
  (global $heap (mut i32) (i32.const 1024))
  ;; A handler returned: reuse the heap on the next entry (not at handler
  ;; entry, since the host allocates the arguments just before it).
  (global $reset_pending (mut i32) (i32.const 0))

  (func $enter
    (if (global.get $reset_pending)
      (then
        (global.set $heap (i32.const 1024))
        (global.set $reset_pending (i32.const 0)))))

  (func (export "theater_abi_version") (result i32) (i32.const 1))

  ;; Align to 8 whatever align says (the host asks for 1); grow as needed.
  (func (export "cabi_realloc") (param $old_ptr i32) (param $old_size i32) (param $align i32) (param $new_size i32) (result i32)
    (local $p i32) (local $end i64)
    (call $enter)
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
      (then
        (memory.copy (local.get $p) (local.get $old_ptr)
          (select (local.get $old_size) (local.get $new_size)
            (i32.lt_u (local.get $old_size) (local.get $new_size))))))
    (local.get $p))

  ;; ok result: tag 0, then (state ptr, len) and (reply ptr, len)
  (func $ok (param $sp i32) (param $sl i32) (param $rp i32) (param $rl i32) (result i32)
    (i32.store (i32.const 16) (i32.const 0))
    (i32.store (i32.const 20) (local.get $sp))
    (i32.store (i32.const 24) (local.get $sl))
    (i32.store (i32.const 28) (local.get $rp))
    (i32.store (i32.const 32) (local.get $rl))
    (global.set $reset_pending (i32.const 1))
    (i32.const 16))

  (func (export "theater_init") (param $sp i32) (param $sl i32) (result i32)
    (call $enter)
    (call $ok (local.get $sp) (local.get $sl) (i32.const 0) (i32.const 0)))

  (func (export "theater_handle_send") (param $sp i32) (param $sl i32) (param $mp i32) (param $ml i32) (result i32)
    (call $enter)
    (call $ok (local.get $sp) (local.get $sl) (i32.const 0) (i32.const 0)))

  (func (export "theater_handle_request") (param $sp i32) (param $sl i32) (param $mp i32) (param $ml i32) (result i32)
    (call $enter)
    (call $ok (local.get $sp) (local.get $sl) (local.get $mp) (local.get $ml))))
