;; Trap backtraces (tests/backtrace_test.cpp). Built twice: with
;; --debug-names (frames named from the name section) and without ("func[N]").
;; Each run_* export traps 3 calls deep: run_* -> $outer -> $middle ->
;; $innermost, which traps as its argument says.
(module
  (import "nomos" "abort" (func $abort (param i32 i32)))  ;; func 0
  (type $void (func))
  (memory (export "memory") 1)
  (table 1 funcref)
  (elem (i32.const 0) $by_table)
  (data (i32.const 0) "boom")
  (func $innermost (param $how i32)                        ;; func 1
    (if (i32.eq (local.get $how) (i32.const 0)) (then unreachable))
    (if (i32.eq (local.get $how) (i32.const 1))
      (then (drop (i32.load (i32.const -4)))))  ;; 0xfffffffc: out of bounds
    (if (i32.eq (local.get $how) (i32.const 2))
      (then (call $abort (i32.const 0) (i32.const 4))))
    (if (i32.eq (local.get $how) (i32.const 3))
      (then (call_indirect (type $void) (i32.const 0)))))
  (func $middle (param i32) (call $innermost (local.get 0)))  ;; func 2
  (func $outer (param i32) (call $middle (local.get 0)))      ;; func 3
  (func $by_table unreachable)                                ;; func 4
  (func $run_unreachable (export "unreachable") (call $outer (i32.const 0)))  ;; 5
  (func $run_oob (export "oob") (call $outer (i32.const 1)))                  ;; 6
  (func $run_abort (export "abort") (call $outer (i32.const 2)))              ;; 7
  (func $run_indirect (export "indirect") (call $outer (i32.const 3)))        ;; 8
  (func $recurse (export "recurse") (call $recurse))                          ;; 9
  (func $run_ok (export "ok") (result i32) (i32.const 7)))                    ;; 10
