;; A host function that calls back into the instance (tests/calls_test.cpp):
;; outer calls the host, which calls burn; the gas burn uses is outer's.
(module
  (import "env" "reenter" (func $reenter))
  (func (export "outer") (result i32)
    (call $reenter)
    (i32.const 1))
  ;; 10 iterations of a small loop
  (func (export "burn") (local $n i32)
    (local.set $n (i32.const 10))
    (loop $l
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))))
