;; nomos_bench: n times, open a child on the code stored at key "c" (its
;; store under "s"), call its "noop" and drop it. Returns how many child
;; calls returned 0 (n when all did).
(module
  (import "nomos" "child_new"
    (func $child_new (param i32 i32 i32 i32 i64 i64) (result i32)))
  (import "nomos" "child_call" (func $child_call (param i32 i32 i32) (result i32)))
  (import "nomos" "child_drop" (func $child_drop (param i32)))
  (memory 1)
  (data (i32.const 0) "c")
  (data (i32.const 8) "s")
  (data (i32.const 16) "noop")
  (func (export "children") (param $n i32) (result i32)
    (local $i i32) (local $ok i32) (local $child i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $child (call $child_new (i32.const 0) (i32.const 1)
          (i32.const 8) (i32.const 1) (i64.const 1000000) (i64.const 0)))
        (br_if $done (i32.lt_s (local.get $child) (i32.const 0)))
        (if (i32.eqz (call $child_call (local.get $child) (i32.const 16) (i32.const 4)))
          (then (local.set $ok (i32.add (local.get $ok) (i32.const 1)))))
        (call $child_drop (local.get $child))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $ok)))
