;; Imports host functions and a global (tests/c_api_test.c, instances): run
;; adds through the host, fail calls a host function that fails, bump counts
;; in an exported mutable global that lives across calls.
(module
  (import "env" "add" (func $add (param i32 i32) (result i32)))
  (import "env" "fail" (func $fail))
  (import "env" "base" (global $base i32))
  (global $counter (export "counter") (mut i64) (i64.const 0))
  (func (export "run") (param $x i32) (result i32)
    (i32.add (call $add (local.get $x) (i32.const 10)) (global.get $base)))
  (func (export "call_fail") (call $fail))
  (func (export "bump") (result i64)
    (global.set $counter (i64.add (global.get $counter) (i64.const 1)))
    (global.get $counter)))
