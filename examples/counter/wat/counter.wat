;; The counter actor (examples/counter/counter.wit) in hand-written WAT,
;; implementing docs/ABI.md version 1 directly, without an SDK.
;;
;; Memory map: 0..1023 static data (strings, the return area, the encoded
;; state), 1024.. a bump heap for the blocks the host allocates through
;; cabi_realloc.
(module
  (import "theater:actor/log@0.1.0" "write" (func $log_write (param i32 i32 i32) (result i32)))

  (memory (export "memory") 1)

  (data (i32.const 16) "counter started")                  ;; 15 bytes
  (data (i32.const 64) "counter: expected a msgpack uint") ;; 32 bytes

  (global $heap_base i32 (i32.const 1024))
  (global $heap (mut i32) (i32.const 1024))
  ;; Set when a handler returns: what it returned stays valid until the
  ;; guest is next entered, and only then may the heap be reused. Not at
  ;; handler entry, since the host allocates the arguments just before.
  (global $reset_pending (mut i32) (i32.const 0))
  ;; Set by $decode when the bytes are not one msgpack uint.
  (global $bad (mut i32) (i32.const 0))

  (global $RET i32 (i32.const 128)) ;; return area: tag, then 4 x u32
  (global $OUT i32 (i32.const 160)) ;; the encoded new state, up to 9 bytes

  (func $enter
    (if (global.get $reset_pending)
      (then
        (global.set $heap (global.get $heap_base))
        (global.set $reset_pending (i32.const 0)))))

  (func (export "theater_abi_version") (result i32) (i32.const 1))

  (func (export "cabi_realloc")
    (param $old_ptr i32) (param $old_size i32) (param $align i32) (param $new_size i32)
    (result i32)
    (local $p i32) (local $end i64)
    (call $enter)
    (if (i32.eqz (local.get $align)) (then (local.set $align (i32.const 1))))
    (local.set $p
      (i32.and
        (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1)))
        (i32.sub (i32.const 0) (local.get $align))))
    ;; 64-bit arithmetic so that neither the end nor the memory size can wrap.
    (local.set $end (i64.add (i64.extend_i32_u (local.get $p)) (i64.extend_i32_u (local.get $new_size))))
    (if (i64.gt_u (local.get $end) (i64.shl (i64.extend_i32_u (memory.size)) (i64.const 16)))
      (then
        (if (i32.eq (i32.const -1)
              (memory.grow
                (i32.wrap_i64
                  (i64.shr_u
                    (i64.sub
                      (i64.add (local.get $end) (i64.const 0xffff))
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

  ;; $decode reads bytes that must be exactly one msgpack uint, in any of
  ;; its encodings; empty bytes are 0 when $empty_ok. Sets $bad otherwise.
  (func $decode (param $ptr i32) (param $len i32) (param $empty_ok i32) (result i64)
    (local $c i32) (local $size i32) (local $i i32) (local $v i64)
    (if (i32.eqz (local.get $len))
      (then
        (if (i32.eqz (local.get $empty_ok)) (then (global.set $bad (i32.const 1))))
        (return (i64.const 0))))
    (local.set $c (i32.load8_u (local.get $ptr)))
    (if (i32.lt_u (local.get $c) (i32.const 0x80))
      (then
        (if (i32.ne (local.get $len) (i32.const 1)) (then (global.set $bad (i32.const 1))))
        (return (i64.extend_i32_u (local.get $c)))))
    (if (i32.or (i32.lt_u (local.get $c) (i32.const 0xcc)) (i32.gt_u (local.get $c) (i32.const 0xcf)))
      (then (global.set $bad (i32.const 1)) (return (i64.const 0))))
    ;; 0xcc..0xcf: a big-endian uint of 1, 2, 4 or 8 bytes follows
    (local.set $size (i32.shl (i32.const 1) (i32.sub (local.get $c) (i32.const 0xcc))))
    (if (i32.ne (local.get $len) (i32.add (local.get $size) (i32.const 1)))
      (then (global.set $bad (i32.const 1)) (return (i64.const 0))))
    (loop $next
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (local.set $v
        (i64.or (i64.shl (local.get $v) (i64.const 8))
          (i64.load8_u (i32.add (local.get $ptr) (local.get $i)))))
      (br_if $next (i32.lt_u (local.get $i) (local.get $size))))
    (local.get $v))

  ;; $encode writes v at $OUT in its smallest msgpack encoding and returns
  ;; the length.
  (func $encode (param $v i64) (result i32)
    (local $size i32) (local $i i32)
    (if (i64.lt_u (local.get $v) (i64.const 0x80))
      (then
        (i64.store8 (global.get $OUT) (local.get $v))
        (return (i32.const 1))))
    (local.set $size
      (if (result i32) (i64.le_u (local.get $v) (i64.const 0xff)) (then (i32.const 1))
        (else (if (result i32) (i64.le_u (local.get $v) (i64.const 0xffff)) (then (i32.const 2))
          (else (if (result i32) (i64.le_u (local.get $v) (i64.const 0xffffffff)) (then (i32.const 4))
            (else (i32.const 8))))))))
    ;; marker 0xcc + log2(size); log2(size) + 1 is the popcount of 2*size - 1
    (i32.store8 (global.get $OUT) (i32.add (i32.const 0xcb) (i32.popcnt (i32.sub (i32.shl (local.get $size) (i32.const 1)) (i32.const 1)))))
    (loop $next
      (i64.store8
        (i32.add (global.get $OUT) (i32.sub (local.get $size) (local.get $i)))
        (i64.shr_u (local.get $v) (i64.extend_i32_u (i32.shl (local.get $i) (i32.const 3)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $next (i32.lt_u (local.get $i) (local.get $size))))
    (i32.add (local.get $size) (i32.const 1)))

  ;; Return areas: tag at byte 0, (ptr, len) pairs from offset 4.
  (func $ok (param $sp i32) (param $sl i32) (param $rp i32) (param $rl i32) (result i32)
    (i32.store (global.get $RET) (i32.const 0))
    (i32.store offset=4 (global.get $RET) (local.get $sp))
    (i32.store offset=8 (global.get $RET) (local.get $sl))
    (i32.store offset=12 (global.get $RET) (local.get $rp))
    (i32.store offset=16 (global.get $RET) (local.get $rl))
    (global.set $reset_pending (i32.const 1))
    (global.get $RET))

  (func $not_uint (result i32)
    (i32.store (global.get $RET) (i32.const 1))
    (i32.store offset=4 (global.get $RET) (i32.const 64))
    (i32.store offset=8 (global.get $RET) (i32.const 32))
    (global.set $reset_pending (i32.const 1))
    (global.get $RET))

  ;; $add leaves state + message encoded at $OUT and returns its length,
  ;; or -1 when either is not a msgpack uint.
  (func $add (param $sp i32) (param $sl i32) (param $mp i32) (param $ml i32) (result i32)
    (local $total i64)
    (global.set $bad (i32.const 0))
    (local.set $total
      (i64.add (call $decode (local.get $sp) (local.get $sl) (i32.const 1))
               (call $decode (local.get $mp) (local.get $ml) (i32.const 0))))
    (if (global.get $bad) (then (return (i32.const -1))))
    (call $encode (local.get $total)))

  (func (export "theater_init") (param $sp i32) (param $sl i32) (result i32)
    (call $enter)
    (drop (call $log_write (i32.const 1) (i32.const 16) (i32.const 15))) ;; best effort
    (global.set $bad (i32.const 0))
    (drop (call $decode (local.get $sp) (local.get $sl) (i32.const 1)))
    (if (global.get $bad) (then (return (call $not_uint))))
    (if (i32.eqz (local.get $sl))
      (then (return (call $ok (global.get $OUT) (call $encode (i64.const 0)) (i32.const 0) (i32.const 0)))))
    (call $ok (local.get $sp) (local.get $sl) (i32.const 0) (i32.const 0)))

  (func (export "theater_handle_send") (param $sp i32) (param $sl i32) (param $mp i32) (param $ml i32) (result i32)
    (local $n i32)
    (call $enter)
    (local.set $n (call $add (local.get $sp) (local.get $sl) (local.get $mp) (local.get $ml)))
    (if (i32.lt_s (local.get $n) (i32.const 0)) (then (return (call $not_uint))))
    (call $ok (global.get $OUT) (local.get $n) (i32.const 0) (i32.const 0)))

  (func (export "theater_handle_request") (param $sp i32) (param $sl i32) (param $mp i32) (param $ml i32) (result i32)
    (local $n i32)
    (call $enter)
    (local.set $n (call $add (local.get $sp) (local.get $sl) (local.get $mp) (local.get $ml)))
    (if (i32.lt_s (local.get $n) (i32.const 0)) (then (return (call $not_uint))))
    ;; The reply is the new state: the same bytes serve as both.
    (call $ok (global.get $OUT) (local.get $n) (global.get $OUT) (local.get $n)))

  (func (export "theater_on_stop") (param $sp i32) (param $sl i32) (result i32)
    (call $enter)
    (call $ok (local.get $sp) (local.get $sl) (i32.const 0) (i32.const 0))))
