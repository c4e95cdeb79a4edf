;; Recursion with large native frames: at -O0 every local lives in the
;; frame, so the native stack runs out before the deterministic depth limit.
;; It must end in StackExhausted, never crash the host.
(module
  (func $deep (export "deep") (param $n i32) (result i64)
    (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
    (local v128 v128 v128 v128 v128 v128 v128 v128 v128 v128 v128 v128)
    (local v128 v128 v128 v128 v128 v128 v128 v128 v128 v128 v128 v128)
    (local v128 v128 v128 v128 v128 v128 v128 v128 v128 v128 v128 v128)
    (local v128 v128 v128 v128 v128 v128 v128 v128 v128 v128 v128 v128)
    (local v128 v128 v128 v128 v128 v128 v128 v128 v128 v128 v128 v128)
    (local v128 v128 v128 v128 v128 v128 v128 v128 v128 v128 v128 v128)
    (local v128 v128 v128 v128 v128 v128 v128 v128 v128 v128 v128 v128)
    (local v128 v128 v128 v128 v128 v128 v128 v128 v128 v128 v128 v128)
    (if (result i64) (i32.eqz (local.get $n))
      (then (i64.const 0))
      (else (i64.add (i64.const 1)
                     (call $deep (i32.sub (local.get $n) (i32.const 1))))))))
