;; Programs with hand-computed gas (tests/gas_test.cpp, docs/metering.md).
;; Default schedule: simple 1, memory access 1, branch 1, division 4, call 5,
;; memory.grow 100 + 1000 per page, bulk memory 5 + 1 per byte, host call
;; 100 + 1 per byte.
(module
  (import "nomos" "gas_left" (func $gas_left (result i64)))
  (import "nomos" "log" (func $log (param i32 i32)))
  (memory 1 10)
  (data (i32.const 0) "hello")

  ;; const, const, mul, const, add = 5
  (func (export "straight") (result i32)
    (i32.add (i32.mul (i32.const 6) (i32.const 7)) (i32.const 1)))

  ;; local.get + if = 2; then: const = 1 (3 in all); else: 3 (5 in all)
  (func (export "branches") (param i32) (result i32)
    (if (result i32) (local.get 0)
      (then (i32.const 10))
      (else (i32.add (i32.const 1) (i32.const 2)))))

  ;; 12 per iteration + 3 (last br_if) + 1 (local.get) = 12 n + 4
  (func (export "loop") (param $n i32) (result i32) (local $s i32)
    (block $done
      (loop $l
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $s (i32.add (local.get $s) (local.get $n)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $l)))
    (local.get $s))

  ;; local.get, const, add = 3
  (func $add1 (param i32) (result i32)
    (i32.add (local.get 0) (i32.const 1)))

  ;; const 1 + call 5 + call 5 + 2 x 3 = 17
  (func (export "calls") (result i32)
    (call $add1 (call $add1 (i32.const 5))))

  ;; const 1 + call 5 + const 1 + add 1 + callee 3 = 11 (the call is in the
  ;; middle of its metered block)
  (func (export "call_mid") (result i32)
    (i32.add (call $add1 (i32.const 1)) (i32.const 10)))

  ;; const, get, div_u (4), set = 7, then get, const, add = 3: 10 in all;
  ;; with $d = 0 the division traps: 6 used
  (func (export "trap_mid") (param $d i32) (result i32)
    (local.set $d (i32.div_u (i32.const 7) (local.get $d)))
    (i32.add (local.get $d) (i32.const 1)))

  ;; const, drop, unreachable = 3 used (the drop after it never runs)
  (func (export "unreachable_mid")
    (drop (i32.const 1))
    (unreachable)
    (drop (i32.const 2)))

  ;; const 65536, const 1, store traps: 3 used (the 2 after it are not)
  (func (export "oob_mid")
    (i32.store (i32.const 65536) (i32.const 1))
    (drop (i32.const 2)))

  ;; local.get 1 + memory.grow 100 + 1000 per page added
  (func (export "grow") (param i32) (result i32)
    (memory.grow (local.get 0)))

  ;; 3 consts + memory.fill 5 + 1 per byte (100) = 108
  (func (export "fill")
    (memory.fill (i32.const 0) (i32.const 0) (i32.const 100)))

  ;; out of bounds: 3 consts + 5, no bytes
  (func (export "fill_oob")
    (memory.fill (i32.const 65500) (i32.const 0) (i32.const 100)))

  ;; call 5 + host call 100 = 105; returns the gas left after both
  (func (export "gas") (result i64)
    (call $gas_left))

  ;; const, const, call = 7; host call 100 + 5 bytes = 105: 112
  (func (export "log5")
    (call $log (i32.const 0) (i32.const 5)))

  ;; runs until the gas is gone
  (func (export "spin")
    (loop $l (br $l)))

  ;; recursion without end: call stack exhausted
  (func $recurse (export "recurse")
    (call $recurse))

  ;; a bit of everything, for comparing optimization levels
  (func (export "mix") (param $n i32) (result i32) (local $i i32) (local $acc i32)
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $acc
          (i32.add (local.get $acc)
            (if (result i32) (i32.and (local.get $i) (i32.const 1))
              (then (call $add1 (local.get $i)))
              (else (i32.rem_u (local.get $acc) (i32.const 7))))))
        (i32.store (i32.const 8) (local.get $acc))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (i32.add (local.get $acc) (i32.load (i32.const 8))))

  ;; fib as clang-19 compiles it (the bench kernel): a loop around one of the
  ;; two recursive calls, so the checks after a call and at the loop's head
  ;; follow each other (and the compiler merges them)
  (func $fib (export "fib") (param $n i32) (result i64) (local $acc i64)
    (block $done
      (br_if $done (i32.lt_u (local.get $n) (i32.const 2)))
      (loop $l
        (local.set $acc
          (i64.add (call $fib (i32.add (local.get $n) (i32.const -1)))
                   (local.get $acc)))
        (br_if $l (i32.ge_u (local.tee $n (i32.add (local.get $n) (i32.const -2)))
                            (i32.const 2)))))
    (i64.add (local.get $acc) (i64.extend_i32_u (local.get $n))))

  ;; insertion sort of the n bytes at 0 ("hello"): an inner loop with two
  ;; exits (a counted one, and one on a byte it loads) and a store, so
  ;; several checks per iteration and a counter leaving the loop either way
  (func (export "sort") (param $n i32) (result i32) (local $i i32) (local $j i32) (local $x i32)
    (local.set $i (i32.const 1))
    (block $done
      (loop $outer
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $x (i32.load8_u (local.get $i)))
        (local.set $j (local.get $i))
        (block $placed
          (loop $inner
            (br_if $placed (i32.eqz (local.get $j)))
            (br_if $placed (i32.le_u (i32.load8_u (i32.sub (local.get $j) (i32.const 1)))
                                     (local.get $x)))
            (i32.store8 (local.get $j) (i32.load8_u (i32.sub (local.get $j) (i32.const 1))))
            (local.set $j (i32.sub (local.get $j) (i32.const 1)))
            (br $inner)))
        (i32.store8 (local.get $j) (local.get $x))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $outer)))
    (i32.load (i32.const 0)))

  ;; a loop that leaves at its bottom, where its counter has come around:
  ;; the charges after it are taken from the loop's last value
  (func (export "countdown") (param $n i32) (result i32) (local $s i32)
    (loop $l
      (local.set $s (i32.add (local.get $s) (local.get $n)))
      (i32.store (i32.const 16) (local.get $s))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (i32.add (i32.load (i32.const 16)) (local.get $s)))

  ;; nested loops whose inner one leaves at its bottom, as matmul's do
  (func (export "nested") (param $n i32) (result i32) (local $i i32) (local $j i32) (local $s i32)
    (loop $outer
      (local.set $j (local.get $n))
      (loop $inner
        (i32.store (i32.shl (local.get $j) (i32.const 2))
                   (local.tee $s (i32.add (local.get $s) (local.get $j))))
        (br_if $inner (local.tee $j (i32.sub (local.get $j) (i32.const 1)))))
      (br_if $outer (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1)))
                              (local.get $n))))
    (local.get $s))
)
