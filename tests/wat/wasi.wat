;; The WASI subset's exact answers (tests/wasi_test.cpp).
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read"
    (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get"
    (func $clock_time_get (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get"
    (func $random_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get"
    (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_fdstat_get"
    (func $fd_fdstat_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_seek"
    (func $fd_seek (param i32 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (import "nomos" "log" (func $log (param i32 i32)))
  (memory 1)
  ;; texts
  (data (i32.const 0) "a\nb")        ;; 0..3
  (data (i32.const 8) "c\n\nd")      ;; 8..12
  (data (i32.const 16) "e\n")        ;; 16..18
  (data (i32.const 24) "L")          ;; 24
  (data (i32.const 32) "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")
  ;; iovec arrays at 256..: (ptr, len) pairs
  (data (i32.const 256) "\00\00\00\00\03\00\00\00\08\00\00\00\04\00\00\00")   ;; "a\nb" "c\n\nd"
  (data (i32.const 272) "\10\00\00\00\02\00\00\00")                           ;; "e\n"
  (data (i32.const 280) "\18\00\00\00\01\00\00\00")                           ;; "L"
  (data (i32.const 288) "\00\00\00\00\01\00\00\00")                           ;; "a"
  (data (i32.const 296) "\00\00\ff\ff\08\00\00\00")                           ;; out of bounds
  ;; scratch: 512.. (nwritten and other outputs)

  (func $write (param $fd i32) (param $iovs i32) (param $n i32) (result i32)
    (call $fd_write (local.get $fd) (local.get $iovs) (local.get $n) (i32.const 512)))

  ;; Two writes to stdout: "a\nb" "c\n\nd", then "e\n" -> a, bc, "", de.
  (func (export "lines") (result i32)
    (drop (call $write (i32.const 1) (i32.const 256) (i32.const 2)))
    (drop (call $write (i32.const 1) (i32.const 272) (i32.const 1)))
    (i32.load (i32.const 512)))                 ;; nwritten of the last: 2

  ;; An unfinished line is closed by anything else logged, or a write to the
  ;; other fd: "a" (stdout) log "L" "a" (stdout) "a" (stderr) -> a, L, a, a.
  (func (export "interleave")
    (drop (call $write (i32.const 1) (i32.const 288) (i32.const 1)))
    (call $log (i32.const 24) (i32.const 1))
    (drop (call $write (i32.const 1) (i32.const 288) (i32.const 1)))
    (drop (call $write (i32.const 2) (i32.const 288) (i32.const 1))))

  ;; fd_write to any fd: its errno.
  (func (export "write_fd") (param $fd i32) (result i32)
    (call $write (local.get $fd) (i32.const 272) (i32.const 1)))

  ;; One write of `len` bytes of x's (gas per byte).
  (func (export "write_len") (param $len i32)
    (i32.store (i32.const 600) (i32.const 32))
    (i32.store (i32.const 604) (local.get $len))
    (drop (call $write (i32.const 1) (i32.const 600) (i32.const 1))))

  ;; A valid iovec, then one that leaves memory: traps.
  (func (export "write_oob")
    (drop (call $write (i32.const 1) (i32.const 288) (i32.const 2))))

  (func (export "clock") (result i32)
    (call $clock_time_get (i32.const 0) (i64.const 1) (i32.const 520)))
  (func (export "random") (result i32)
    (call $random_get (i32.const 520) (i32.const 16)))

  ;; args_sizes_get over 0xffffffff words: errno + argc + buffer size.
  (func (export "args") (result i32)
    (i64.store (i32.const 520) (i64.const -1))
    (i32.add (call $args_sizes_get (i32.const 520) (i32.const 524))
      (i32.add (i32.load (i32.const 520)) (i32.load (i32.const 524)))))

  ;; fd_fdstat_get(fd): errno * 256 + filetype.
  (func (export "fdstat") (param $fd i32) (result i32)
    (i32.store8 (i32.const 520) (i32.const 255))
    (i32.add (i32.mul (call $fd_fdstat_get (local.get $fd) (i32.const 520))
                      (i32.const 256))
             (i32.load8_u (i32.const 520))))
  ;; The rights of fd_fdstat_get(fd).
  (func (export "rights") (param $fd i32) (result i64)
    (drop (call $fd_fdstat_get (local.get $fd) (i32.const 520)))
    (i64.load (i32.const 528)))

  ;; fd_read(0) into 16 bytes: errno * 256 + bytes read.
  (func (export "read_stdin") (result i32)
    (i32.store (i32.const 600) (i32.const 640))
    (i32.store (i32.const 604) (i32.const 16))
    (i32.store (i32.const 512) (i32.const 99))
    (i32.add (i32.mul (call $fd_read (i32.const 0) (i32.const 600) (i32.const 1)
                                     (i32.const 512))
                      (i32.const 256))
             (i32.load (i32.const 512))))

  (func (export "seek") (param $fd i32) (result i32)
    (call $fd_seek (local.get $fd) (i64.const 0) (i32.const 0) (i32.const 520)))

  ;; path_open in directory fd 3 (libc's first preopen, were there one).
  (func (export "open") (result i32)
    (call $path_open (i32.const 3) (i32.const 0) (i32.const 0) (i32.const 1)
      (i32.const 0) (i64.const -1) (i64.const -1) (i32.const 0) (i32.const 520)))

  (func (export "exit") (param $code i32)
    (call $proc_exit (local.get $code))))
