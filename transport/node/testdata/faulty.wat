;; faulty.wat: a counter that fails on command, for the supervision tests.
;; Its state is the count as a msgpack u32 (ce + 4 bytes, big-endian); init
;; turns any other state into a count of 0. A send or request is a fixint
;; command:
;;   0  add one to the count; a request answers the new count (msgpack u32)
;;   1  trap (unreachable)
;;   2  loop forever (the handler deadline, or out of fuel under a fuel limit)
;;   3  grow memory a page at a time until memory.grow fails, then trap
;;      (the memory limit)
;;   4  return a guest error ("asked to fail")
;;   5  exit normally: proc_exit(0)
;; Anything else answers the count unchanged (docs/ABI.md v1).
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 96) "asked to fail")

  ;; Bump allocator that never frees: each call's message and state go
  ;; above 1024, and a restart begins with a fresh instance.
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
    (if (local.get $old_ptr)
      (then (memory.copy (local.get $p) (local.get $old_ptr) (local.get $old_size))))
    (local.get $p))

  (func (export "theater_abi_version") (result i32) (i32.const 1))

  ;; count reads the count of a state (0 unless it is ce + 4 bytes).
  (func $count (param $sp i32) (param $sl i32) (result i32)
    (if (i32.or (i32.ne (local.get $sl) (i32.const 5))
                (i32.ne (i32.load8_u (local.get $sp)) (i32.const 0xce)))
      (then (return (i32.const 0))))
    (i32.or
      (i32.or (i32.shl (i32.load8_u offset=1 (local.get $sp)) (i32.const 24))
              (i32.shl (i32.load8_u offset=2 (local.get $sp)) (i32.const 16)))
      (i32.or (i32.shl (i32.load8_u offset=3 (local.get $sp)) (i32.const 8))
              (i32.load8_u offset=4 (local.get $sp)))))

  ;; ok writes the count as the new state (at 200) and as the reply, and
  ;; returns the return area at 16: tag 0, (state ptr, len), (reply ptr, len).
  (func $ok (param $n i32) (result i32)
    (i32.store8 (i32.const 200) (i32.const 0xce))
    (i32.store8 (i32.const 201) (i32.shr_u (local.get $n) (i32.const 24)))
    (i32.store8 (i32.const 202) (i32.shr_u (local.get $n) (i32.const 16)))
    (i32.store8 (i32.const 203) (i32.shr_u (local.get $n) (i32.const 8)))
    (i32.store8 (i32.const 204) (local.get $n))
    (i32.store (i32.const 16) (i32.const 0))
    (i32.store (i32.const 20) (i32.const 200))
    (i32.store (i32.const 24) (i32.const 5))
    (i32.store (i32.const 28) (i32.const 200))
    (i32.store (i32.const 32) (i32.const 5))
    (i32.const 16))

  (func (export "theater_init") (param $sp i32) (param $sl i32) (result i32)
    (call $ok (call $count (local.get $sp) (local.get $sl))))

  (func $handle (param $sp i32) (param $sl i32) (param $mp i32) (param $ml i32) (result i32)
    (local $cmd i32) (local $n i32)
    (local.set $n (call $count (local.get $sp) (local.get $sl)))
    (local.set $cmd (i32.const 255))
    (if (i32.eq (local.get $ml) (i32.const 1))
      (then (local.set $cmd (i32.load8_u (local.get $mp)))))
    (if (i32.eqz (local.get $cmd))
      (then (return (call $ok (i32.add (local.get $n) (i32.const 1))))))
    (if (i32.eq (local.get $cmd) (i32.const 1))
      (then unreachable))
    (if (i32.eq (local.get $cmd) (i32.const 2))
      (then (loop $forever (br $forever))))
    (if (i32.eq (local.get $cmd) (i32.const 3))
      (then
        (loop $grow
          (if (i32.ne (memory.grow (i32.const 1)) (i32.const -1))
            (then
              (i32.store (i32.shl (i32.sub (memory.size) (i32.const 1)) (i32.const 16)) (i32.const 1))
              (br $grow))))
        unreachable))
    (if (i32.eq (local.get $cmd) (i32.const 4))
      (then
        (i32.store (i32.const 16) (i32.const 1))
        (i32.store (i32.const 20) (i32.const 96))
        (i32.store (i32.const 24) (i32.const 13))
        (return (i32.const 16))))
    (if (i32.eq (local.get $cmd) (i32.const 5))
      (then (call $proc_exit (i32.const 0)) unreachable))
    (call $ok (local.get $n)))

  (func (export "theater_handle_send") (param i32 i32 i32 i32) (result i32)
    (call $handle (local.get 0) (local.get 1) (local.get 2) (local.get 3)))

  (func (export "theater_handle_request") (param i32 i32 i32 i32) (result i32)
    (call $handle (local.get 0) (local.get 1) (local.get 2) (local.get 3))))
