;; Frames counted across every kind of call (tests/calls_test.cpp,
;; CallDepthTest). Each function here counts one frame unit.
(module
  (import "host" "reenter" (func $reenter (param i32))) ;; calls down back
  (type $down_type (func (param i32)))
  (table 1 funcref)
  (elem (i32.const 0) $down_indirect)
  ;; n more frames by direct calls
  (func $down (export "down") (param $n i32)
    (if (local.get $n)
      (then (call $down (i32.sub (local.get $n) (i32.const 1))))))
  ;; n more frames through the table
  (func $down_indirect (export "down_indirect") (param $n i32)
    (if (local.get $n)
      (then (call_indirect (type $down_type)
              (i32.sub (local.get $n) (i32.const 1)) (i32.const 0)))))
  ;; k more frames, then the host, which calls down(m)
  (func $then_host (export "then_host") (param $k i32) (param $m i32)
    (if (local.get $k)
      (then (call $then_host (i32.sub (local.get $k) (i32.const 1))
                             (local.get $m)))
      (else (call $reenter (local.get $m)))))
  ;; deep calls through the table between two trips through the host
  (func (export "host_around_calls") (param $m i32)
    (call $reenter (local.get $m))
    (call $down_indirect (i32.const 90))
    (call $reenter (local.get $m))))
