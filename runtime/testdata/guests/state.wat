;; Test guest for fresh-instance semantics: everything an instance can carry from one call to
;; the next. Memory starts with a data segment; a mutable global and memory cells count calls;
;; a start function (optional, second component below) seeds state at instantiation.
;;   bump      -> u32: counter global * 1000 + counter cell in memory (1001 on a fresh instance)
;;   grow(n)   -> u32: memory.grow n pages (old size, or -1)
;;   scribble(seed) : overwrites every byte of memory (all pages) from seed
;;   checksum  -> u32: FNV-1a over all of memory, and its size
;;   size      -> u32: memory.size in pages
;;   peek(addr)-> u32: the byte at addr
(component
  (core module $m
    (memory (export "memory") 3 64)
    (data (i32.const 100) "fresh instance image")
    (data (i32.const 65600) "second page")
    (global $calls (mut i32) (i32.const 0))
    (global $seed (mut i64) (i64.const 7))
    (func (export "bump") (result i32)
      (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
      (i32.store (i32.const 2048) (i32.add (i32.load (i32.const 2048)) (i32.const 1)))
      (i32.add (i32.mul (global.get $calls) (i32.const 1000)) (i32.load (i32.const 2048))))
    (func (export "grow") (param i32) (result i32)
      (memory.grow (local.get 0)))
    (func (export "scribble") (param $s i32)
      (local $p i32) (local $end i32)
      (local.set $end (i32.mul (memory.size) (i32.const 65536)))
      (global.set $seed (i64.extend_i32_u (local.get $s)))
      (block $done
        (loop $l
          (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
          (global.set $seed (i64.add (i64.mul (global.get $seed) (i64.const 6364136223846793005)) (i64.const 1442695040888963407)))
          (i64.store (local.get $p) (global.get $seed))
          (local.set $p (i32.add (local.get $p) (i32.const 8)))
          (br $l))))
    (func (export "checksum") (result i32)
      (local $p i32) (local $end i32) (local $h i32)
      (local.set $h (i32.const 2166136261))
      (local.set $end (i32.mul (memory.size) (i32.const 65536)))
      (block $done
        (loop $l
          (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
          (local.set $h (i32.mul (i32.xor (local.get $h) (i32.load8_u (local.get $p))) (i32.const 16777619)))
          (local.set $p (i32.add (local.get $p) (i32.const 1)))
          (br $l)))
      (local.get $h))
    (func (export "size") (result i32) (memory.size))
    (func (export "peek") (param i32) (result i32) (i32.load8_u (local.get 0)))
  )
  (core instance $i (instantiate $m))
  (func (export "bump") (result u32) (canon lift (core func $i "bump")))
  (func (export "grow") (param "pages" u32) (result s32) (canon lift (core func $i "grow")))
  (func (export "scribble") (param "seed" u32) (canon lift (core func $i "scribble")))
  (func (export "checksum") (result u32) (canon lift (core func $i "checksum")))
  (func (export "size") (result u32) (canon lift (core func $i "size")))
  (func (export "peek") (param "addr" u32) (result u32) (canon lift (core func $i "peek")))
)
