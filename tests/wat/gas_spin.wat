;; A child that never ends (tests/gas_test.cpp).
(module
  (func (export "spin") (loop $l (br $l)))
  (func (export "nothing")))
