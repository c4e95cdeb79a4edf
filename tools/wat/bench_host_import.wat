;; nomos_bench: n calls of an empty host function (Instance API, bound with
;; Extern::function), in a counted loop.
(module
  (import "env" "empty" (func $empty))
  (func (export "call_host") (param $n i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (call $empty)
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next)))))
