;; Valid wasm that Nomos does not lower yet: it must be refused with a
;; message naming the instruction, never miscompiled.
(module
  (func (export "f") (result i32)
    (drop (v128.const i32x4 1 2 3 4))
    (i32.const 0)))
