;; nomos_bench: the empty export, called from the host (Instance::call and
;; VM::call), and the code of the child that bench_child.wat opens.
(module
  (func (export "noop")))
