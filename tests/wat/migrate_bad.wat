;; An upgrade target whose migrate has the wrong type (tests/state_test.cpp).
(module
  (func (export "version") (result i32) (i32.const 5))
  (func (export "migrate") (param i32)))
