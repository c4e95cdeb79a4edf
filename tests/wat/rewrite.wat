;; Valid wasm that Binaryen 108 cannot read, which Nomos rewrites before it
;; does (metering/src/code_rewrite.h): blocks, loops and ifs with parameters
;; (multi-value inputs), and the table bulk operations.
(module
  (type $ret (func (result i32)))

  ;; ---- blocks with parameters ----

  ;; n! with the accumulator and the counter carried by the loop: the if
  ;; (with parameters and an else) either returns the accumulator or
  ;; branches back to the loop with both values.
  (func (export "fac") (param $n i64) (result i64)
    (local $t i64)
    (i64.const 1)
    (local.get $n)
    (loop $l (param i64 i64) (result i64)
      (local.set $t)
      (i64.eqz (local.get $t))
      (if (param i64) (result i64)
        (then)
        (else
          (local.get $t) (i64.mul)
          (i64.sub (local.get $t) (i64.const 1))
          (br $l)))))

  ;; (i, sum) -> (i + 1, sum + i) while i + 1 < n: br_if to the loop, taken
  ;; and finally not taken (then its values fall through as the results).
  (func (export "count") (param $n i32) (result i32 i32)
    (local $i i32) (local $s i32)
    (i32.const 0) (i32.const 0)
    (loop $l (param i32 i32) (result i32 i32)
      (local.set $s) (local.set $i)
      (i32.add (local.get $i) (i32.const 1))
      (i32.add (local.get $s) (local.get $i))
      (i32.lt_u (i32.add (local.get $i) (i32.const 1)) (local.get $n))
      (br_if $l)))

  ;; An if with a parameter and no else: the input is the result when the
  ;; condition is false.
  (func (export "if-no-else") (param $c i32) (result i32)
    (i32.const 10)
    (if (param i32) (result i32) (local.get $c)
      (then (i32.const 5) (i32.add))))

  ;; A block with parameters of several types (and a result of two values).
  (func (export "block-mixed") (result i64 f64)
    (local $x f64) (local $y i64)
    (i32.const 7) (i64.const 8) (f64.const 0.5)
    (block (param i32 i64 f64) (result i64 f64)
      (local.set $x (f64.add (f64.const 1)))
      (local.set $y)
      (i64.extend_i32_u)
      (i64.add (local.get $y))
      (local.get $x)))

  ;; br_table whose targets are a loop with a parameter and a block: the
  ;; value goes back to the loop until the counter reaches k.
  (func (export "table-mix") (param $k i32) (result i32)
    (local $iter i32)
    (block $out (result i32)
      (i32.const 100)
      (loop $l (param i32) (result i32)
        (local.set $iter (i32.add (local.get $iter) (i32.const 1)))
        (i32.add (i32.const 1))
        (i32.ge_u (local.get $iter) (local.get $k))
        (br_table $l $out))))

  ;; br_table over two nested loops with parameters, a repeated target and a
  ;; block as the default.
  (func (export "table-loops") (result i32)
    (local $n i32)
    (block $out (result i32)
      (i32.const 0)
      (loop $outer (param i32) (result i32)
        (i32.add (i32.const 1000))
        (loop $inner (param i32) (result i32)
          (i32.add (i32.const 1))
          (local.set $n (i32.add (local.get $n) (i32.const 1)))
          (i32.sub (local.get $n) (i32.const 1))
          (br_table $inner $outer $inner $out)))))

  ;; Two values of one type through br_table: (a, b) -> (b, a + 10).
  (func (export "table-pair") (result i32)
    (local $n i32) (local $a i32) (local $b i32)
    (block $out (result i32 i32)
      (i32.const 1) (i32.const 2)
      (loop $l (param i32 i32) (result i32 i32)
        (local.set $b) (local.set $a)
        (local.get $b)
        (i32.add (local.get $a) (i32.const 10))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (i32.ge_u (local.get $n) (i32.const 3))
        (br_table $l $out)))
    (local.set $b) (local.set $a)
    (i32.add (i32.mul (local.get $a) (i32.const 100)) (local.get $b)))

  ;; Branches to loops with parameters in dead code, where the stack is
  ;; polymorphic (there the br_table's targets may even take different
  ;; types).
  (func (export "dead-table") (result i32)
    (block $b (result f32)
      (i32.const 0)
      (loop $l (param i32) (result f32)
        (drop) (unreachable)
        (br_table $l $b)))
    (drop) (i32.const 1))
  (func (export "dead-br") (param i32) (result i32)
    (block $b (result i32)
      (local.get 0)
      (loop $l (param i32) (result i32)
        (local.tee 0) (local.get 0) (br_if $b)
        (drop)
        (unreachable)
        (br $l)
        (br_if $l)
        (drop)
        (i32.const 5))))

  ;; ---- table bulk operations ----

  (table $t 4 funcref)
  (table $e 3 externref)
  (func $f1 (result i32) (i32.const 1))
  (func $f2 (result i32) (i32.const 2))
  (func $f3 (result i32) (i32.const 3))
  (elem $seg func $f1 $f2 $f3)
  (elem $t (i32.const 0) func $f1)

  (func (export "init") (param i32 i32 i32)
    (table.init $t $seg (local.get 0) (local.get 1) (local.get 2)))
  (func (export "drop") (elem.drop $seg))
  (func (export "copy") (param i32 i32 i32)
    (table.copy $t $t (local.get 0) (local.get 1) (local.get 2)))
  (func (export "fill") (param i32 i32)
    (table.fill $t (local.get 0) (ref.func $f3) (local.get 1)))
  (func (export "fill-extern") (param i32 externref i32)
    (table.fill $e (local.get 0) (local.get 1) (local.get 2)))
  (func (export "get-extern") (param i32) (result externref)
    (table.get $e (local.get 0)))
  ;; What slot i holds: its function's result, or -1 for null.
  (func (export "slot") (param i32) (result i32)
    (if (result i32) (ref.is_null (table.get $t (local.get 0)))
      (then (i32.const -1))
      (else (call_indirect $t (type $ret) (local.get 0))))))
