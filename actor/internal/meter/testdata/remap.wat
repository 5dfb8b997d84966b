;; remap.wat: every place a function index appears, so that the meter's
;; renumbering (an import is added after the imported functions) is seen
;; by a call through each: imports, direct calls, exports, the start
;; function, element segments of every kind, ref.func in globals and in
;; code, call_indirect, and the name section (added by the test).
(module
  (import "env" "add1" (func $add1 (param i32) (result i32)))
  (type $t (func (param i32) (result i32)))
  (table $tab 8 funcref)
  (memory 1)
  ;; flags 0: active, table 0, function indices.
  (elem (i32.const 0) $double $triple)
  ;; flags 2: active, explicit table.
  (elem (table $tab) (i32.const 2) func $quad $add1)
  ;; flags 4: active, table 0, expressions.
  (elem (i32.const 4) funcref (ref.func $triple) (ref.null func))
  ;; flags 1: passive; flags 5: passive expressions.
  (elem $passive func $double $quad)
  (elem $passive2 funcref (ref.func $add1))
  ;; flags 3: declarative, so ref.func $neg is allowed in code.
  (elem declare func $neg)
  (global $g funcref (ref.func $triple))
  (global $started (mut i32) (i32.const 0))
  (func $double (type $t) (i32.mul (local.get 0) (i32.const 2)))
  (func $triple (type $t) (i32.mul (local.get 0) (i32.const 3)))
  (func $quad (type $t) (i32.mul (local.get 0) (i32.const 4)))
  (func $neg (type $t) (i32.sub (i32.const 0) (local.get 0)))
  (func (export "dispatch") (param $i i32) (param $x i32) (result i32)
    (call_indirect (type $t) (local.get $x) (local.get $i)))
  (func (export "direct") (param $x i32) (result i32)
    (call $add1 (call $double (call $triple (local.get $x)))))
  (func (export "viaref") (param $x i32) (result i32)
    (table.set $tab (i32.const 6) (ref.func $neg))
    (call_indirect (type $t) (local.get $x) (i32.const 6)))
  (func (export "viaglobal") (param $x i32) (result i32)
    (table.set $tab (i32.const 7) (global.get $g))
    (call_indirect (type $t) (local.get $x) (i32.const 7)))
  (func (export "passive") (param $x i32) (result i32)
    (table.init $tab $passive (i32.const 6) (i32.const 0) (i32.const 2))
    (table.init $tab $passive2 (i32.const 5) (i32.const 0) (i32.const 1))
    (i32.add (i32.add
      (call_indirect (type $t) (local.get $x) (i32.const 6))
      (call_indirect (type $t) (local.get $x) (i32.const 7)))
      (call_indirect (type $t) (local.get $x) (i32.const 5))))
  (func (export "simd") (param $x i32) (result i32)
    (i32x4.extract_lane 2
      (i32x4.add (i32x4.splat (local.get $x)) (v128.const i32x4 1 2 3 4))))
  (func (export "started") (result i32) (global.get $started))
  (func $init (global.set $started (call $quad (i32.const 10))))
  (export "quad" (func $quad))
  (start $init))
