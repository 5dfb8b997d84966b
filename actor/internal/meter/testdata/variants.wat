;; variants.wat: loops.wat's sum, metered by hand in the ways the pass
;; could have chosen, for BenchmarkVariants (the pass's own form is
;; loops.wasm instrumented). Each calls the same host function.
(module
  (import "theater:meter" "out-of-fuel" (func $oof (param i64) (result i64)))
  (memory (export "memory") 1)
  (global $fuel (mut i64) (i64.const 0))

  ;; local.tee: one global read per point instead of two.
  (func (export "sum_tee") (param $n i32) (result i64)
    (local $x i64) (local $s i64) (local $f i64)
    (local.set $x (i64.const 88172645463325252))
    (block $done
      (loop $l
        (global.set $fuel (local.tee $f (i64.sub (global.get $fuel) (i64.const 34))))
        (if (i64.lt_s (local.get $f) (i64.const 0))
          (then (global.set $fuel (call $oof (global.get $fuel)))))
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 13))))
        (local.set $x (i64.xor (local.get $x) (i64.shr_u (local.get $x) (i64.const 7))))
        (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 17))))
        (i64.store (i32.const 64) (i64.add (i64.load (i32.const 64)) (local.get $x)))
        (local.set $s (i64.add (local.get $s) (i64.and (local.get $x) (i64.const 0xffff))))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $l)))
    (i64.add (local.get $s) (i64.load (i32.const 64))))

  ;; The counter in linear memory (at 0) instead of a global.
  (func (export "sum_mem") (param $n i32) (result i64)
    (local $x i64) (local $s i64)
    (local.set $x (i64.const 88172645463325252))
    (block $done
      (loop $l
        (i64.store (i32.const 0) (i64.sub (i64.load (i32.const 0)) (i64.const 34)))
        (if (i64.lt_s (i64.load (i32.const 0)) (i64.const 0))
          (then (i64.store (i32.const 0) (call $oof (i64.load (i32.const 0))))))
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 13))))
        (local.set $x (i64.xor (local.get $x) (i64.shr_u (local.get $x) (i64.const 7))))
        (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 17))))
        (i64.store (i32.const 64) (i64.add (i64.load (i32.const 64)) (local.get $x)))
        (local.set $s (i64.add (local.get $s) (i64.and (local.get $x) (i64.const 0xffff))))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $l)))
    (i64.add (local.get $s) (i64.load (i32.const 64))))

  ;; A point at every basic block (exact counts): the loop body is split
  ;; by its br_if, so each iteration pays two points.
  (func (export "sum_bb") (param $n i32) (result i64)
    (local $x i64) (local $s i64)
    (local.set $x (i64.const 88172645463325252))
    (block $done
      (loop $l
        (global.set $fuel (i64.sub (global.get $fuel) (i64.const 3)))
        (if (i64.lt_s (global.get $fuel) (i64.const 0))
          (then (global.set $fuel (call $oof (global.get $fuel)))))
        (br_if $done (i32.eqz (local.get $n)))
        (global.set $fuel (i64.sub (global.get $fuel) (i64.const 31)))
        (if (i64.lt_s (global.get $fuel) (i64.const 0))
          (then (global.set $fuel (call $oof (global.get $fuel)))))
        (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 13))))
        (local.set $x (i64.xor (local.get $x) (i64.shr_u (local.get $x) (i64.const 7))))
        (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 17))))
        (i64.store (i32.const 64) (i64.add (i64.load (i32.const 64)) (local.get $x)))
        (local.set $s (i64.add (local.get $s) (i64.and (local.get $x) (i64.const 0xffff))))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $l)))
    (i64.add (local.get $s) (i64.load (i32.const 64)))))
