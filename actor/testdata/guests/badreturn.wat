;; badreturn.wat: handlers return pointers the host must not follow.
;; handle-send returns a valid return area whose state pointer is outside
;; memory. handle-request picks the fault by its message, a msgpack
;; positive fixint (anything else means 0):
;;   0 the return-area pointer itself is outside memory
;;   1 ok, state pointer outside memory
;;   2 ok, reply ptr + len wraps around 2^32
;;   3 err, message pointer outside memory
;;   4 the 20-byte return area straddles the end of memory
;;   5 the tag is 7 (neither ok nor err)
;; Everything else is a complete, ABI-conforming actor (docs/ABI.md v1).
(module
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

  (func (export "theater_handle_send") (param $sp i32) (param $sl i32) (param i32 i32) (result i32)
    (call $ok (i32.const 0x7ffffff0) (i32.const 16) (i32.const 0) (i32.const 0)))

  (func (export "theater_handle_request") (param $sp i32) (param $sl i32) (param $mp i32) (param $ml i32) (result i32)
    (local $mode i32)
    (if (i32.and (i32.ne (local.get $ml) (i32.const 0))
                 (i32.lt_u (i32.load8_u (local.get $mp)) (i32.const 0x80)))
      (then (local.set $mode (i32.load8_u (local.get $mp)))))
    (block $b5 (block $b4 (block $b3 (block $b2 (block $b1 (block $b0
      (br_table $b0 $b1 $b2 $b3 $b4 $b5 $b0 (local.get $mode)))
      ;; 0
      (return (i32.const 0xfffffff0)))
      ;; 1
      (return (call $ok (i32.const 0xfffffff0) (i32.const 8) (local.get $sp) (local.get $sl))))
      ;; 2
      (return (call $ok (local.get $sp) (local.get $sl) (i32.const 0xffffff00) (i32.const 0x200))))
      ;; 3
      (i32.store (i32.const 16) (i32.const 1))
      (i32.store (i32.const 20) (i32.const 0x7fff0000))
      (i32.store (i32.const 24) (i32.const 5))
      (return (i32.const 16)))
      ;; 4
      (return (i32.sub (i32.shl (memory.size) (i32.const 16)) (i32.const 8))))
    ;; 5
    (drop (call $ok (local.get $sp) (local.get $sl) (local.get $sp) (local.get $sl)))
    (i32.store (i32.const 16) (i32.const 7))
    (i32.const 16)))
