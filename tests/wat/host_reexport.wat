;; Re-exports its host import as a function, through a table, and behind one
;; of its own functions (tests/calls_test.cpp: host_reenter_other.wat calls
;; the host through each and the host calls back into it).
(module
  (import "env" "reenter" (func $reenter))
  (export "reenter" (func $reenter))
  (table (export "table") 1 funcref)
  (elem (i32.const 0) $reenter)
  (func (export "via") (call $reenter)))
