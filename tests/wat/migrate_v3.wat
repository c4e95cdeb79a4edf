;; An upgrade target with a migrate (tests/state_test.cpp): version() returns
;; 3; migrate writes "migrated" = "m"; store_version writes "v" = u32 3.
(module
  (import "nomos" "write" (func $write (param i32 i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "migrated")
  (data (i32.const 16) "m")
  (data (i32.const 24) "v")
  (data (i32.const 32) "\03\00\00\00")
  (func (export "version") (result i32) (i32.const 3))
  (func (export "store_version")
    (call $write (i32.const 24) (i32.const 1) (i32.const 32) (i32.const 4)))
  (func (export "migrate")
    (call $write (i32.const 0) (i32.const 8) (i32.const 16) (i32.const 1))))
