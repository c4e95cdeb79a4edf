;; Opens a child from the code at key "c" (store key "s"), writes "a" before
;; and "b" after calling the child's "run", and returns
;; status * 1000 + child_get("k") (the value's length, or -1 when absent).
(module
  (import "nomos" "child_new" (func $new (param i32 i32 i32 i32 i64 i64) (result i32)))
  (import "nomos" "child_call" (func $call (param i32 i32 i32) (result i32)))
  (import "nomos" "child_get" (func $get (param i32 i32 i32 i32 i32) (result i32)))
  (import "nomos" "write" (func $write (param i32 i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "csrunkab")
  (func (export "go") (result i32) (local $child i32) (local $status i32)
    (call $write (i32.const 6) (i32.const 1) (i32.const 6) (i32.const 1))
    (local.set $child (call $new (i32.const 0) (i32.const 1) (i32.const 1) (i32.const 1)
                                 (i64.const 1000000) (i64.const 100000)))
    (local.set $status (call $call (local.get $child) (i32.const 2) (i32.const 3)))
    (call $write (i32.const 7) (i32.const 1) (i32.const 7) (i32.const 1))
    (i32.add (i32.mul (local.get $status) (i32.const 1000))
             (call $get (local.get $child) (i32.const 5) (i32.const 1) (i32.const 100)
                        (i32.const 0)))))
