;; Reaches a host function of another instance (host_reexport.wat) in three
;; ways; the host calls back into burn (tests/calls_test.cpp).
(module
  (import "other" "reenter" (func $reenter))
  (import "other" "via" (func $via))
  (import "other" "table" (table 1 funcref))
  (type $void (func))
  (func (export "direct") (call $reenter))
  (func (export "through_function") (call $via))
  (func (export "through_table") (call_indirect (type $void) (i32.const 0)))
  ;; 10 iterations of a small loop
  (func (export "burn") (local $n i32)
    (local.set $n (i32.const 10))
    (loop $l
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))))
