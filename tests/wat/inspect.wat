;; Named functions for `nomos inspect` and Engine::inspect (tests/inspect_test.cpp).
;; Built with wat2wasm --debug-names, so the name section keeps the names.
(module
  (memory 1)
  (func $square (param $x i32) (result i32)
    (i32.mul (local.get $x) (local.get $x)))
  (func $sum_squares (export "sum_squares") (param $n i32) (result i32)
    (local $s i32)
    (block $done
      (loop $l
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $s (i32.add (local.get $s) (call $square (local.get $n))))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $l)))
    (local.get $s))
  ;; a loop without calls (a hash of n bytes of memory)
  (func $hash (export "hash") (param $n i32) (result i32)
    (local $h i32)
    (block $done
      (loop $l
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (local.set $h (i32.xor (i32.mul (local.get $h) (i32.const 31))
                               (i32.load8_u (local.get $n))))
        (br $l)))
    (local.get $h))
  ;; a search: the loop stops at a value it loads (not counted)
  (func $find (export "find") (param $x i32) (result i32)
    (local $i i32)
    (block $done
      (loop $l
        (br_if $done (i32.eq (i32.load8_u (local.get $i)) (local.get $x)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (local.get $i))
  ;; scales n doubles in place (each stored product is canonicalized)
  (func $scale (export "scale") (param $n i32) (param $k f64)
    (block $done
      (loop $l
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (f64.store (i32.shl (local.get $n) (i32.const 3))
                   (f64.mul (f64.load (i32.shl (local.get $n) (i32.const 3)))
                            (local.get $k)))
        (br $l)))))
