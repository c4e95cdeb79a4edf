;; A child that writes, then traps: its write must be rolled back, and only
;; its own (its parent's writes before and after stay).
(module
  (import "nomos" "write" (func $write (param i32 i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "k")
  (func (export "run")
    (call $write (i32.const 0) (i32.const 1) (i32.const 0) (i32.const 1))
    (unreachable)))
