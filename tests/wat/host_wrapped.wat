;; Imports host functions made with Extern::wrap (tests/calls_test.cpp): one
;; of every parameter type, one with no result, and ones that fail; calls
;; them directly, through a table, and re-exports one to the host.
(module
  (type $mixType (func (param i32 i64 f32 f64) (result f64)))
  (import "env" "mix" (func $mix (type $mixType)))
  (import "env" "tick" (func $tick (param i32)))
  (import "env" "fail" (func $fail (result i64)))
  (import "env" "throw" (func $throw))
  (table 1 funcref)
  (elem (i32.const 0) $mix)
  (export "mix" (func $mix))
  (func (export "run") (param $a i32) (param $b i64) (param $c f32) (param $d f64)
                       (result f64)
    (call $tick (local.get $a))
    (call $mix (local.get $a) (local.get $b) (local.get $c) (local.get $d)))
  (func (export "run_indirect") (param $a i32) (result f64)
    (call_indirect (type $mixType) (local.get $a) (i64.const 2) (f32.const 0.5)
                   (f64.const 0.25) (i32.const 0)))
  (func (export "tick_n") (param $n i32)
    (loop $again
      (call $tick (i32.const 1))
      (br_if $again (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
  (func (export "call_fail") (result i64) (call $fail))
  (func (export "call_throw") (call $throw)))
