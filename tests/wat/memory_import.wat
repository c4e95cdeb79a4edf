;; A module whose memory the host provides (tests/sandbox_test.cpp).
(module
  (import "env" "memory" (memory 1))
  (func (export "load") (param i32) (result i32) (i32.load (local.get 0))))
