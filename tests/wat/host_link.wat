;; Imports another instance's exported function (tests/c_api_test.c).
(module
  (import "first" "bump" (func $bump (result i64)))
  (func (export "bump_twice") (result i64)
    (drop (call $bump))
    (call $bump)))
