;; A guest whose start function traps after its memory exists: instantiation fails, and the
;; memory (a mapping, not garbage-collected) must still be given back.
(component
  (core module $m
    (memory (export "memory") 16)
    (func $init (i32.store (i32.const 0) (i32.const 1)) unreachable)
    (start $init)
    (func (export "answer") (result i32) (i32.const 42))
  )
  (core instance $i (instantiate $m))
  (func (export "answer") (result u32) (canon lift (core func $i "answer")))
)
