;; Loops that the compiler runs in an unchecked copy (plain loads, no gas
;; checks, rerolled) when a test before them shows that they cannot trap
;; (compiler/src/loop_versioning.cpp; tests/loop_versioning_test.cpp).
(module
  (import "env" "memory" (memory 1))
  ;; dst[k] += a * src[k] for k < 2n (f64), two elements per iteration as
  ;; clang unrolls it for wasm32, the second through offset=8. n = 0 runs
  ;; the body once, as a do-while does.
  (func $axpy (export "axpy") (param $dst i32) (param $src i32) (param $n i32) (param $a f64)
    (local $i i32) (local $end i32) (local $p i32) (local $q i32)
    (local.set $end (i32.shl (local.get $n) (i32.const 4)))
    (loop $l
      (local.set $p (i32.add (local.get $dst) (local.get $i)))
      (local.set $q (i32.add (local.get $src) (local.get $i)))
      (f64.store (local.get $p)
        (f64.add (f64.load (local.get $p))
                 (f64.mul (local.get $a) (f64.load (local.get $q)))))
      (f64.store offset=8 (local.get $p)
        (f64.add (f64.load offset=8 (local.get $p))
                 (f64.mul (local.get $a) (f64.load offset=8 (local.get $q)))))
      (br_if $l (i32.ne (local.tee $i (i32.add (local.get $i) (i32.const 16)))
                        (local.get $end)))))
  ;; The same with the second element's address computed in i32, as clang
  ;; also emits it (matmul.c).
  (func $axpy_i32 (export "axpy_i32") (param $dst i32) (param $src i32) (param $n i32) (param $a f64)
    (local $i i32) (local $end i32) (local $p i32) (local $q i32)
    (local.set $end (i32.shl (local.get $n) (i32.const 4)))
    (loop $l
      (local.set $p (i32.add (local.get $dst) (local.get $i)))
      (local.set $q (i32.add (local.get $src) (local.get $i)))
      (f64.store (local.get $p)
        (f64.add (f64.load (local.get $p))
                 (f64.mul (local.get $a) (f64.load (local.get $q)))))
      (local.set $p (i32.add (local.get $p) (i32.const 8)))
      (local.set $q (i32.add (local.get $q) (i32.const 8)))
      (f64.store (local.get $p)
        (f64.add (f64.load (local.get $p))
                 (f64.mul (local.get $a) (f64.load (local.get $q)))))
      (br_if $l (i32.ne (local.tee $i (i32.add (local.get $i) (i32.const 16)))
                        (local.get $end)))))
;; Two copies whose accesses interleave: both loads come before both
  ;; stores, and the second copy reads what the first one writes (rolled up,
  ;; it would read the new value).
  (func $stagger (export "stagger") (param $dst i32) (param $src i32) (param $n i32)
        (param $a f64) (local $i i32) (local $end i32) (local $p i32) (local $x f64) (local $y f64)
    (local.set $end (i32.shl (local.get $n) (i32.const 4)))
    (loop $l
      (local.set $p (i32.add (local.get $dst) (local.get $i)))
      (local.set $x (f64.load (local.get $p)))
      (local.set $y (f64.load offset=8 (local.get $p)))
      (f64.store offset=8 (local.get $p) (f64.mul (local.get $a) (local.get $x)))
      (f64.store offset=16 (local.get $p) (f64.mul (local.get $a) (local.get $y)))
      (br_if $l (i32.ne (local.tee $i (i32.add (local.get $i) (i32.const 16)))
                        (local.get $end)))))
  ;; dst[k] = a for k < n, with a load of src[k] whose value is dropped: with
  ;; explicit checks LLVM deletes the load but not its bounds check, which
  ;; must still trap (the test covers checks, not only accesses).
  (func $probe (export "probe") (param $dst i32) (param $src i32) (param $n i32)
        (param $a f64) (local $i i32) (local $end i32)
    (local.set $end (i32.shl (local.get $n) (i32.const 3)))
    (loop $l
      (drop (i64.load (i32.add (local.get $src) (local.get $i))))
      (f64.store (i32.add (local.get $dst) (local.get $i)) (local.get $a))
      (br_if $l (i32.ne (local.tee $i (i32.add (local.get $i) (i32.const 8)))
                        (local.get $end)))))
  ;; dst[k] = a * src[k] for k < n, addresses written as (p - 16) + offset 16:
  ;; for p < 16 the i32 part wraps (to near 2^32) and the access is out of
  ;; bounds, though p itself is not.
  (func $scale_back (export "scale_back") (param $dst i32) (param $src i32) (param $n i32)
        (param $a f64) (local $i i32) (local $end i32)
    (local.set $end (i32.shl (local.get $n) (i32.const 3)))
    (loop $l
      (f64.store offset=16 (i32.sub (i32.add (local.get $dst) (local.get $i)) (i32.const 16))
        (f64.mul (local.get $a)
                 (f64.load offset=16
                   (i32.sub (i32.add (local.get $src) (local.get $i)) (i32.const 16)))))
      (br_if $l (i32.ne (local.tee $i (i32.add (local.get $i) (i32.const 8)))
                        (local.get $end)))))
  ;; dst[k] = a * (src[k] + src[k + 1]) for k < n, src[k + 1] carried to the
  ;; next iteration in a local (as clang carries w[i - 15] in sha256's message
  ;; schedule): state that is neither an induction nor a reduction.
  (func $pairs (export "pairs") (param $dst i32) (param $src i32) (param $n i32)
        (param $a f64) (local $i i32) (local $end i32) (local $prev f64) (local $next f64)
    (local.set $end (i32.shl (local.get $n) (i32.const 3)))
    (local.set $prev (f64.load (local.get $src)))
    (loop $l
      (local.set $next (f64.load offset=8 (i32.add (local.get $src) (local.get $i))))
      (f64.store (i32.add (local.get $dst) (local.get $i))
        (f64.mul (local.get $a) (f64.add (local.get $prev) (local.get $next))))
      (local.set $prev (local.get $next))
      (br_if $l (i32.ne (local.tee $i (i32.add (local.get $i) (i32.const 8)))
                        (local.get $end)))))
  ;; Bytes [0, 65536) as f64s 0.25 * k (with a NaN now and then).
  (func $init (export "init") (local $i i32)
    (loop $l
      (f64.store (local.get $i)
        (select (f64.const nan:0x4) (f64.mul (f64.convert_i32_u (local.get $i)) (f64.const 0.25))
                (i32.eqz (i32.and (local.get $i) (i32.const 0x7f8)))))
      (br_if $l (i32.ne (local.tee $i (i32.add (local.get $i) (i32.const 8)))
                        (i32.const 65536)))))
  ;; FNV-1a over the memory's 8-byte words.
  (func $digest (export "digest") (result i64) (local $i i32) (local $h i64)
    (local.set $h (i64.const 0xcbf29ce484222325))
    (loop $l
      (local.set $h (i64.mul (i64.xor (local.get $h) (i64.load (local.get $i)))
                             (i64.const 0x100000001b3)))
      (br_if $l (i32.ne (local.tee $i (i32.add (local.get $i) (i32.const 8)))
                        (i32.const 65536))))
    (local.get $h)))
