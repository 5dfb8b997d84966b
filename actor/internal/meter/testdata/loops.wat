;; loops.wat: guests that run as long as they are let, and ones that
;; finish with a known cost, for the meter's tests and benchmarks.
(module
  (memory (export "memory") 1)

  ;; (loop br 0): the smallest runaway.
  (func (export "spin")
    (loop $l (br $l)))

  ;; A tight loop with no calls and no memory, counting forever.
  (func (export "tight") (result i64)
    (local $i i64)
    (loop $l
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (br_if $l (i64.ne (local.get $i) (i64.const -1))))
    (local.get $i))

  ;; count n: n iterations; costs 2 + 7n units (see meter_test.go).
  (func (export "count") (param $n i32)
    (loop $l
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l (local.get $n))))

  ;; sum n: a loop-heavy computation (n iterations of a xorshift mixed
  ;; into a sum and a memory slot) for the benchmarks.
  (func (export "sum") (param $n i32) (result i64)
    (local $x i64) (local $s i64)
    (local.set $x (i64.const 88172645463325252))
    (block $done
      (loop $l
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 13))))
        (local.set $x (i64.xor (local.get $x) (i64.shr_u (local.get $x) (i64.const 7))))
        (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 17))))
        (i64.store (i32.const 64) (i64.add (i64.load (i32.const 64)) (local.get $x)))
        (local.set $s (i64.add (local.get $s) (i64.and (local.get $x) (i64.const 0xffff))))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $l)))
    (i64.add (local.get $s) (i64.load (i32.const 64))))

  ;; Unbounded recursion with no loop anywhere.
  (func $recurse (export "recurse") (param $n i32) (result i32)
    (i32.add (call $recurse (i32.add (local.get $n) (i32.const 1))) (i32.const 1)))

  ;; Nested loops with blocks, ifs and br_table between them, for costs
  ;; charged per region: fib by iteration, n times over.
  (func (export "nested") (param $n i32) (result i32)
    (local $i i32) (local $a i32) (local $b i32) (local $t i32) (local $acc i32)
    (loop $outer
      (local.set $a (i32.const 0))
      (local.set $b (i32.const 1))
      (local.set $i (i32.const 0))
      (block $out
        (loop $inner
          (br_if $out (i32.ge_u (local.get $i) (i32.const 20)))
          (block $b2 (block $b1 (block $b0
            (br_table $b0 $b1 $b2 (i32.rem_u (local.get $i) (i32.const 3))))
            (local.set $acc (i32.add (local.get $acc) (i32.const 1))))
            (local.set $acc (i32.xor (local.get $acc) (local.get $a))))
          (local.set $t (i32.add (local.get $a) (local.get $b)))
          (local.set $a (local.get $b))
          (local.set $b (local.get $t))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $inner)))
      (if (i32.and (local.get $a) (i32.const 1))
        (then (local.set $acc (i32.add (local.get $acc) (local.get $a))))
        (else (local.set $acc (i32.sub (local.get $acc) (local.get $a)))))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $outer (i32.gt_s (local.get $n) (i32.const 0))))
    (local.get $acc))

  ;; echo: copies a payload of n bytes from ptr to 4096, as a handler
  ;; would, for the call-overhead benchmark.
  (func (export "echo") (param $ptr i32) (param $n i32) (result i32)
    (memory.copy (i32.const 4096) (local.get $ptr) (local.get $n))
    (i32.const 4096)))
