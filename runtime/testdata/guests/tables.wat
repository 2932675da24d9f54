;; A guest that changes its table at run time (table.set): its instances cannot be reset by
;; restoring memory and globals, so the runtime must not recycle them.
(component
  (core module $m
    (table 2 funcref)
    (func $a (result i32) (i32.const 1))
    (func $b (result i32) (i32.const 2))
    (elem (i32.const 0) $a)
    (type $t (func (result i32)))
    (func (export "swap") (result i32)
      (table.set (i32.const 0) (ref.func $b))
      (call_indirect (type $t) (i32.const 0)))
    (elem declare func $b)
  )
  (core instance $i (instantiate $m))
  (func (export "swap") (result u32) (canon lift (core func $i "swap")))
)
