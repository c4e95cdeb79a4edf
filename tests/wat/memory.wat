;; Loads, stores, bounds checks, growth and data segments.
(module
  (memory 1 3)
  (data (i32.const 16) "\2a\00\00\00hello")
  (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "load8_s") (param i32) (result i32) (i32.load8_s (local.get 0)))
  (func (export "load16_u64") (param i32) (result i64) (i64.load16_u (local.get 0)))
  (func (export "load_offset") (param i32) (result i32) (i32.load offset=65532 (local.get 0)))
  (func (export "store") (param i32 i32) (i32.store (local.get 0) (local.get 1)))
  (func (export "store_load64") (param i32 i64) (result i64)
    (i64.store (local.get 0) (local.get 1)) (i64.load (local.get 0)))
  (func (export "size") (result i32) (memory.size))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  ;; Grow, then store in the new page.
  (func (export "grow_store") (result i32)
    (drop (memory.grow (i32.const 1)))
    (i32.store (i32.const 70000) (i32.const 5))
    (i32.load (i32.const 70000)))
)
