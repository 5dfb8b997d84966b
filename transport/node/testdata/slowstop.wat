;; slowstop.wat: an actor whose on-stop handler never returns, for the
;; test of a supervisor agent's shutdown bound (supcap_test.go). Init,
;; sends and requests keep the state as it is (a request answers it);
;; theater_on_stop loops until its handler deadline or a kill ends it
;; (docs/ABI.md v1).
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

  ;; Return area at 16: tag 0, then (ptr, len) pairs.
  (func $ok (param $sp i32) (param $sl i32) (result i32)
    (i32.store (i32.const 16) (i32.const 0))
    (i32.store (i32.const 20) (local.get $sp))
    (i32.store (i32.const 24) (local.get $sl))
    (i32.store (i32.const 28) (local.get $sp))
    (i32.store (i32.const 32) (local.get $sl))
    (i32.const 16))

  (func (export "theater_init") (param $sp i32) (param $sl i32) (result i32)
    (call $ok (local.get $sp) (local.get $sl)))

  (func (export "theater_handle_send") (param $sp i32) (param $sl i32) (param $mp i32) (param $ml i32) (result i32)
    (call $ok (local.get $sp) (local.get $sl)))

  (func (export "theater_handle_request") (param $sp i32) (param $sl i32) (param $mp i32) (param $ml i32) (result i32)
    (call $ok (local.get $sp) (local.get $sl)))

  (func (export "theater_on_stop") (param $sp i32) (param $sl i32) (result i32)
    (loop $forever (br $forever))
    (call $ok (local.get $sp) (local.get $sl))))
