;; Valid wasm that this slice does not lower yet: it must be refused with a
;; message naming the instruction, never miscompiled.
(module
  (func (export "f") (result i32)
    (i32.trunc_f32_s (f32.add (f32.const 1) (f32.const 2)))))
