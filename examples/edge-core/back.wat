;; back: the core tier of edge-core. Exports wash:edgecore/backend@0.1.0 (wit/backend.wit):
;;   summarize(text: string, max-words: u32) -> result<summary, string>
;; Written by hand against the canonical ABI; no WASI imports at all.
(module
  (memory (export "memory") 1)

  (data (i32.const 16) "hello, ")                                                ;; 7
  (data (i32.const 32) "text is empty: ask for /some-words-separated-by-dashes") ;; 54

  ;; heap for cabi_realloc from 4096 (a fresh instance serves every call)
  (global $heap (mut i32) (i32.const 4096))

  (func $realloc (export "cabi_realloc")
    (param $old i32) (param $old_size i32) (param $align i32) (param $new_size i32)
    (result i32)
    (local $p i32)
    (local.set $p
      (i32.and
        (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1)))
        (i32.sub (i32.const 0) (local.get $align))))
    (global.set $heap (i32.add (local.get $p) (local.get $new_size)))
    (if (i32.gt_u (global.get $heap) (i32.mul (memory.size) (i32.const 65536)))
      (then
        (if (i32.lt_s
              (memory.grow
                (i32.add (i32.shr_u (i32.sub (global.get $heap)
                                             (i32.mul (memory.size) (i32.const 65536)))
                                    (i32.const 16))
                         (i32.const 1)))
              (i32.const 0))
          (then unreachable))))
    (if (i32.ne (local.get $old) (i32.const 0))
      (then (memory.copy (local.get $p) (local.get $old) (local.get $old_size))))
    (local.get $p))

  (func $alloc (param $size i32) (result i32)
    (call $realloc (i32.const 0) (i32.const 0) (i32.const 4) (local.get $size)))

  ;; The result lives in a 24-byte area: [0] discriminant, [4] greeting ptr / error ptr,
  ;; [8] greeting len / error len, [12] length, [16] words ptr, [20] words count.
  (func (export "wash:edgecore/backend@0.1.0#summarize")
    (param $text i32) (param $len i32) (param $max i32) (result i32)
    (local $ret i32) (local $g i32) (local $words i32) (local $n i32)
    (local $i i32) (local $start i32) (local $slot i32)
    (local.set $ret (call $alloc (i32.const 24)))
    (if (i32.eqz (local.get $len))
      (then
        (i32.store8 (local.get $ret) (i32.const 1))
        (i32.store offset=4 (local.get $ret) (i32.const 32))
        (i32.store offset=8 (local.get $ret) (i32.const 54))
        (return (local.get $ret))))
    ;; greeting = "hello, " + text
    (local.set $g (call $alloc (i32.add (local.get $len) (i32.const 7))))
    (memory.copy (local.get $g) (i32.const 16) (i32.const 7))
    (memory.copy (i32.add (local.get $g) (i32.const 7)) (local.get $text) (local.get $len))
    ;; words: the non-empty runs between '-', at most $max; (ptr, len) pairs into the text
    (local.set $words (call $alloc (i32.shl (i32.add (local.get $len) (i32.const 1)) (i32.const 3))))
    (block $done
      (loop $scan
        (if (i32.or (i32.eq (local.get $i) (local.get $len))
                    (i32.eq (i32.load8_u (i32.add (local.get $text) (local.get $i))) (i32.const 45)))
          (then
            (if (i32.gt_u (local.get $i) (local.get $start))
              (then
                (br_if $done (i32.ge_u (local.get $n) (local.get $max)))
                (local.set $slot (i32.add (local.get $words) (i32.shl (local.get $n) (i32.const 3))))
                (i32.store (local.get $slot) (i32.add (local.get $text) (local.get $start)))
                (i32.store offset=4 (local.get $slot) (i32.sub (local.get $i) (local.get $start)))
                (local.set $n (i32.add (local.get $n) (i32.const 1)))))
            (local.set $start (i32.add (local.get $i) (i32.const 1)))))
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $scan)))
    (i32.store8 (local.get $ret) (i32.const 0))
    (i32.store offset=4 (local.get $ret) (local.get $g))
    (i32.store offset=8 (local.get $ret) (i32.add (local.get $len) (i32.const 7)))
    (i32.store offset=12 (local.get $ret) (local.get $len))
    (i32.store offset=16 (local.get $ret) (local.get $words))
    (i32.store offset=20 (local.get $ret) (local.get $n))
    (local.get $ret))
)
