;; Version 2 of tests/guests/stateful.cpp (tests/state_test.cpp): version()
;; returns 2 and store_version writes "v" = u32 2.
(module
  (import "nomos" "write" (func $write (param i32 i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "v")
  (data (i32.const 8) "\02\00\00\00")
  (func (export "version") (result i32) (i32.const 2))
  (func (export "store_version")
    (call $write (i32.const 0) (i32.const 1) (i32.const 8) (i32.const 4))))
