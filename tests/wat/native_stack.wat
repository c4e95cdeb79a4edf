;; Recursion that runs into the native stack limit before the call-depth
;; limit (set high by the test): tests/calls_test.cpp, NativeStackTest.
(module
  (memory (export "memory") 1)
  ;; one metered block of 11: store 3, call's operands 3, call 5
  (func $down (export "down") (param $n i32)
    (i32.store (i32.const 0) (local.get $n))
    (call $down (i32.add (local.get $n) (i32.const 1))))
  ;; the n of the deepest frame that ran its store
  (func (export "deepest") (result i32) (i32.load (i32.const 0))))
