;; An upgrade target whose migrate tries upgrade("next") (tests/state_test.cpp):
;; not allowed, it traps.
(module
  (import "nomos" "upgrade" (func $upgrade (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "next")
  (func (export "version") (result i32) (i32.const 6))
  (func (export "migrate")
    (drop (call $upgrade (i32.const 0) (i32.const 4)))))
