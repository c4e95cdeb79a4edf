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
  ;; SHA-256's round loop (FIPS 180-4), src as the message schedule: eight
  ;; words of state, two chains of them rotating one place per round (h = g,
  ;; g = f, f = e; d = c, c = b, b = a), 64 rounds, the state stored at dst.
  ;; The compiler unrolls it four times (codegen.cpp, UnrollRotations).
  (func $rounds (export "rounds") (param $dst i32) (param $src i32) (param $n i32)
        (param $x f64) (local $i i32) (local $a i32) (local $b i32) (local $c i32)
        (local $d i32) (local $e i32) (local $f i32) (local $g i32) (local $h i32)
        (local $t1 i32) (local $t2 i32)
    (local.set $a (i32.const 0x6a09e667)) (local.set $b (i32.const 0xbb67ae85))
    (local.set $c (i32.const 0x3c6ef372)) (local.set $d (i32.const 0xa54ff53a))
    (local.set $e (i32.const 0x510e527f)) (local.set $f (i32.const 0x9b05688c))
    (local.set $g (i32.const 0x1f83d9ab)) (local.set $h (i32.const 0x5be0cd19))
    (loop $l
      (local.set $t1
        (i32.add
          (i32.add (local.get $h)
            (i32.xor (i32.xor (i32.rotr (local.get $e) (i32.const 6))
                              (i32.rotr (local.get $e) (i32.const 11)))
                     (i32.rotr (local.get $e) (i32.const 25))))
          (i32.add
            (i32.xor (i32.and (local.get $e) (local.get $f))
                     (i32.and (i32.xor (local.get $e) (i32.const -1)) (local.get $g)))
            (i32.add (i32.add (local.get $i) (i32.const 0x428a2f98))
                     (i32.load (i32.add (local.get $src) (local.get $i)))))))
      (local.set $t2
        (i32.add
          (i32.xor (i32.xor (i32.rotr (local.get $a) (i32.const 2))
                            (i32.rotr (local.get $a) (i32.const 13)))
                   (i32.rotr (local.get $a) (i32.const 22)))
          (i32.xor (i32.xor (i32.and (local.get $a) (local.get $b))
                            (i32.and (local.get $a) (local.get $c)))
                   (i32.and (local.get $b) (local.get $c)))))
      (local.set $h (local.get $g))
      (local.set $g (local.get $f))
      (local.set $f (local.get $e))
      (local.set $e (i32.add (local.get $d) (local.get $t1)))
      (local.set $d (local.get $c))
      (local.set $c (local.get $b))
      (local.set $b (local.get $a))
      (local.set $a (i32.add (local.get $t1) (local.get $t2)))
      (br_if $l (i32.ne (local.tee $i (i32.add (local.get $i) (i32.const 4)))
                        (i32.const 256))))
    (i32.store (local.get $dst) (local.get $a))
    (i32.store offset=4 (local.get $dst) (local.get $b))
    (i32.store offset=8 (local.get $dst) (local.get $c))
    (i32.store offset=12 (local.get $dst) (local.get $d))
    (i32.store offset=16 (local.get $dst) (local.get $e))
    (i32.store offset=20 (local.get $dst) (local.get $f))
    (i32.store offset=24 (local.get $dst) (local.get $g))
    (i32.store offset=28 (local.get $dst) (local.get $h)))
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
