;; nomos_bench: storage writes and reads of 32-byte values under 4-byte keys
;; (the key is the loop counter), n per call.
(module
  (import "nomos" "write" (func $write (param i32 i32 i32 i32)))
  (import "nomos" "read" (func $read (param i32 i32 i32 i32) (result i32)))
  (memory 1)
  ;; the key at 0, the value written at 64, the value read into 128
  (data (i32.const 64) "0123456789abcdef0123456789abcdef")
  ;; Sets keys 0 .. n-1.
  (func (export "write_n") (param $n i32)
    (local $i i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (i32.store (i32.const 0) (local.get $i))
        (call $write (i32.const 0) (i32.const 4) (i32.const 64) (i32.const 32))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))))
  ;; Reads keys 0 .. n-1; the sum of the value lengths (32 n when all exist).
  (func (export "read_n") (param $n i32) (result i32)
    (local $i i32) (local $sum i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (i32.store (i32.const 0) (local.get $i))
        (local.set $sum (i32.add (local.get $sum)
          (call $read (i32.const 0) (i32.const 4) (i32.const 128) (i32.const 32))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $sum)))
