;; Counted loops (tests/gas_test.cpp): the same gas, trap and memory at every
;; optimization level, whether the loop completes or runs out of gas midway
;; (what LLVM may restructure most: unrolled, vectorized, its exits merged).
(module
  (import "env" "memory" (memory 1))
  ;; get, get, ge_u, br_if = 4; get, const, shl, get, const, add, store = 7;
  ;; get, const, add, set = 4; br = 1: 16 per iteration, 4 for the last test
  ;; (16 n + 4 in all, n <= 16384)
  (func (export "fill") (param $n i32) (local $i i32)
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (i32.store (i32.shl (local.get $i) (i32.const 2))
                   (i32.add (local.get $i) (i32.const 1)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l))))
  ;; Reads back what fill wrote (from another instance, with gas to spare).
  (func (export "sum") (param $n i32) (result i32) (local $i i32) (local $s i32)
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $s (i32.add (local.get $s)
                               (i32.load (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (local.get $s)))
