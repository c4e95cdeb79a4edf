;; Valid wasm that Nomos does not lower yet: it must be refused with a
;; message naming the construct, never miscompiled. A block with parameters
;; (multi-value): Binaryen 108 cannot read it.
(module
  (func (export "f") (result i32)
    (i32.const 1)
    (block (param i32) (result i32)
      (i32.const 2)
      (i32.add))))
