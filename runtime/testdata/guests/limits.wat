;; Test guest for the runtime's failure paths: a wasi:http handler that never returns, and
;; top-level functions that trap, spin, and allocate without bound.
(component
  (import "wasi:http/types@0.2.0" (instance $types
    (export "incoming-request" (type (sub resource)))
    (export "response-outparam" (type (sub resource)))
  ))
  (alias export $types "incoming-request" (type $req))
  (alias export $types "response-outparam" (type $out))
  (core module $m
    (memory (export "memory") 1)
    (func (export "handle") (param i32 i32)
      (loop $l (br $l)))
    (func (export "trap") (result i32)
      unreachable)
    (func (export "spin")
      (loop $l (br $l)))
    ;; grows memory one page at a time until memory.grow fails, then returns the page count
    (func (export "grow") (result i32)
      (block $done
        (loop $l
          (br_if $done (i32.eq (memory.grow (i32.const 1)) (i32.const -1)))
          (br $l)))
      memory.size)
    ;; like grow, but traps once the allocator cannot get more memory (what a real guest does)
    (func (export "alloc") (result i32)
      (loop $l
        (if (i32.eq (memory.grow (i32.const 16)) (i32.const -1)) (then unreachable))
        (br $l))
      i32.const 0)
    (func (export "answer") (result i32) i32.const 42)
  )
  (core instance $i (instantiate $m))
  (type $handle-t (func (param "request" (own $req)) (param "response-out" (own $out))))
  (func $handle (type $handle-t) (canon lift (core func $i "handle")))
  (instance $h (export "handle" (func $handle)))
  (export "wasi:http/incoming-handler@0.2.0" (instance $h))
  (func (export "trap") (result u32) (canon lift (core func $i "trap")))
  (func (export "spin") (canon lift (core func $i "spin")))
  (func (export "grow") (result u32) (canon lift (core func $i "grow")))
  (func (export "alloc") (result u32) (canon lift (core func $i "alloc")))
  (func (export "answer") (result u32) (canon lift (core func $i "answer")))
)
