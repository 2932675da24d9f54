;; Test guest whose import does not match WASI: it imports wasi:random/random's
;; get-random-bytes with a u32 length (WASI declares u64). The host must refuse it when
;; linking, naming the import, instead of trapping mid-call.
(component
  (import "wasi:random/random@0.2.0" (instance $rnd
    (export "get-random-bytes" (func (param "len" u32) (result (list u8))))
  ))
  (core module $memmod
    (memory (export "memory") 1)
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) (i32.const 4096))
  )
  (core instance $mem (instantiate $memmod))
  (alias core export $mem "memory" (core memory $memory))
  (alias core export $mem "realloc" (core func $realloc))
  (alias export $rnd "get-random-bytes" (func $h-bytes))
  (core func $l-bytes (canon lower (func $h-bytes) (memory $memory) (realloc $realloc)))
  (core module $main
    (import "host" "bytes" (func $bytes (param i32 i32)))
    (func (export "run") (result i32) (call $bytes (i32.const 16) (i32.const 0)) (i32.const 0))
  )
  (core instance $m (instantiate $main (with "host" (instance (export "bytes" (func $l-bytes))))))
  (func (export "run") (result u32) (canon lift (core func $m "run")))
)
