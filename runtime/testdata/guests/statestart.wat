;; state.wat with a start function: it seeds the counters at instantiation (calls = 5, cell =
;; 7), so a fresh instance answers bump = 6008, from a snapshot or from running start again.
(component
  (core module $m
    (memory (export "memory") 2)
    (data (i32.const 100) "fresh instance image")
    (global $calls (mut i32) (i32.const 0))
    (func $init
      (global.set $calls (i32.const 5))
      (i32.store (i32.const 2048) (i32.const 7))
      (drop (memory.grow (i32.const 1))))
    (start $init)
    (func (export "bump") (result i32)
      (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
      (i32.store (i32.const 2048) (i32.add (i32.load (i32.const 2048)) (i32.const 1)))
      (i32.add (i32.mul (global.get $calls) (i32.const 1000)) (i32.load (i32.const 2048))))
    (func (export "size") (result i32) (memory.size))
  )
  (core instance $i (instantiate $m))
  (func (export "bump") (result u32) (canon lift (core func $i "bump")))
  (func (export "size") (result u32) (canon lift (core func $i "size")))
)
