;; nomos_bench: n calls of the guest ABI's cheapest import (nomos.gas_left,
;; a plain C function of the runtime), in a counted loop, inside a VM.
(module
  (import "nomos" "gas_left" (func $gas_left (result i64)))
  (func (export "call_host") (param $n i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (drop (call $gas_left))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next)))))
