;; Test guest whose import does not match WASI: its wasi:config/store error variant names a
;; case "remote" where the interface has "upstream". The host must refuse it when linking.
(component
  (import "wasi:config/store@0.2.0-draft" (instance $cfg
    (type $err (variant (case "remote" string) (case "io" string)))
    (export "error" (type $err-x (eq $err)))
    (export "get" (func (param "key" string) (result (result (option string) (error $err-x)))))
  ))
  (core module $memmod
    (memory (export "memory") 1)
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) (i32.const 4096))
  )
  (core instance $mem (instantiate $memmod))
  (alias core export $mem "memory" (core memory $memory))
  (alias core export $mem "realloc" (core func $realloc))
  (alias export $cfg "get" (func $h-get))
  (core func $l-get (canon lower (func $h-get) (memory $memory) (realloc $realloc)))
  (core module $main
    (import "host" "get" (func $get (param i32 i32 i32)))
    (func (export "run") (result i32) (call $get (i32.const 0) (i32.const 0) (i32.const 64)) (i32.const 0))
  )
  (core instance $m (instantiate $main (with "host" (instance (export "get" (func $l-get))))))
  (func (export "run") (result u32) (canon lift (core func $m "run")))
)
