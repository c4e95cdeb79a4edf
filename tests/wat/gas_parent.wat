;; A parent that runs the child stored at "spin" (tests/gas_test.cpp).
;; run(gas): child_new("spin", "s", gas, 0), then child_call(h, "spin");
;; returns child_call's status (10 = out of gas).
(module
  (import "nomos" "child_new"
    (func $child_new (param i32 i32 i32 i32 i64 i64) (result i32)))
  (import "nomos" "child_call" (func $child_call (param i32 i32 i32) (result i32)))
  (memory 1)
  (data (i32.const 0) "spin")
  (data (i32.const 16) "s")
  (func (export "run") (param $gas i64) (result i32)
    (call $child_call
      (call $child_new (i32.const 0) (i32.const 4) (i32.const 16) (i32.const 1)
                       (local.get $gas) (i64.const 0))
      (i32.const 0) (i32.const 4))))
