;; A small module for bench_sandbox's instance figures: one page of memory
;; with a data segment, a global and an exported function.
(module
  (memory (export "memory") 1)
  (global $calls (mut i32) (i32.const 0))
  (data (i32.const 16) "a small data segment")
  (func (export "touch") (result i32)
    (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    (i32.store (i32.const 0) (global.get $calls))
    (i32.load (i32.const 0))))
