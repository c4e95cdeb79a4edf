;; An upgrade target whose migrate writes "migrated", then traps
;; (tests/state_test.cpp): the upgrade must roll back.
(module
  (import "nomos" "write" (func $write (param i32 i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "migrated")
  (data (i32.const 16) "m")
  (func (export "version") (result i32) (i32.const 4))
  (func (export "migrate")
    (call $write (i32.const 0) (i32.const 8) (i32.const 16) (i32.const 1))
    unreachable))
