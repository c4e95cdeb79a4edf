;; Structured control flow, calls, globals, traps and the call-depth limit.
(module
  (global $counter (mut i64) (i64.const 100))
  (func $fac (export "fac") (param i64) (result i64)
    (if (result i64) (i64.le_u (local.get 0) (i64.const 1))
      (then (i64.const 1))
      (else (i64.mul (local.get 0) (call $fac (i64.sub (local.get 0) (i64.const 1)))))))
  ;; Sum 1..n with a loop and br_if.
  (func (export "sum") (param i32) (result i32) (local $acc i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get 0)))
        (local.set $acc (i32.add (local.get $acc) (local.get 0)))
        (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
        (br $next)))
    (local.get $acc))
  ;; br_table: each index to its target, out of range to the default.
  (func (export "classify") (param i32) (result i32)
    (block $other
      (block $two
        (block $one
          (block $zero
            (br_table $zero $one $two $other (local.get 0)))
          (return (i32.const 10)))
        (return (i32.const 11)))
      (return (i32.const 12)))
    (i32.const 99))
  ;; br_table carrying a value.
  (func (export "table_value") (param i32) (result i32)
    (block $a (result i32)
      (i32.add
        (block $b (result i32)
          (br_table $a $b (i32.const 5) (local.get 0)))
        (i32.const 100))))
  ;; br with a value out of nested blocks; code after it is dead.
  (func (export "early") (param i32) (result i32)
    (block $out (result i32)
      (drop (br_if $out (i32.const 7) (local.get 0)))
      (i32.const 8)))
  (func (export "select") (param i32) (result i64)
    (select (i64.const 1) (i64.const 2) (local.get 0)))
  (func (export "bump") (result i64)
    (global.set $counter (i64.add (global.get $counter) (i64.const 1)))
    (global.get $counter))
  (func (export "unreachable") (unreachable))
  (func $forever (export "recurse") (param i32) (result i32)
    (i32.add (call $forever (i32.add (local.get 0) (i32.const 1))) (i32.const 1)))
  (func $depth (export "depth") (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0))
      (then (i32.const 0))
      (else (i32.add (i32.const 1) (call $depth (i32.sub (local.get 0) (i32.const 1)))))))
)
