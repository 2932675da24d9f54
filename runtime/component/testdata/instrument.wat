;; A core module for the interruption rewrite (instrument): every place a function index
;; appears — calls, tail calls, ref.func in code and in a global, element segments of both
;; kinds, exports, the start function, the name section — and loops, so the instrumented
;; module must compute exactly what the original does. Rebuild with build.sh.
(module $m
  (import "env" "add" (func $add (param i32 i32) (result i32)))
  (import "env" "g" (global $g i32))
  (type $i2i (func (param i32) (result i32)))
  (table $t 4 funcref)
  (global $started (mut i32) (i32.const 0))
  (global $fref funcref (ref.func $double))
  (elem (i32.const 0) $double $square)
  (elem (table $t) (i32.const 2) funcref (ref.func $inc) (ref.null func))
  (elem declare func $inc)
  (func $double (type $i2i) (call $add (local.get 0) (local.get 0)))
  (func $square (type $i2i) (i32.mul (local.get 0) (local.get 0)))
  (func $inc (type $i2i) (i32.add (local.get 0) (i32.const 1)))
  (func $init (global.set $started (i32.const 7)))
  (start $init)
  ;; sum over i < n of table[i % 3](i), plus the imported global and the start marker
  (func (export "mix") (param $n i32) (result i32)
    (local $i i32) (local $acc i32)
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $acc (i32.add (local.get $acc)
          (call_indirect (type $i2i) (local.get $i) (i32.rem_u (local.get $i) (i32.const 3)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (i32.add (i32.add (local.get $acc) (global.get $g)) (global.get $started)))
  (func (export "via-ref") (param i32) (result i32)
    (call_indirect (type $i2i) (local.get 0) (i32.const 2)))
  (func $count (param $n i32) (result i32)
    (if (result i32) (i32.eqz (local.get $n))
      (then (i32.const 0))
      (else (return_call $count (i32.sub (local.get $n) (i32.const 1))))))
  (func (export "count") (param i32) (result i32) (call $count (local.get 0)))
  (func (export "spin") (loop $l (br $l)))
  (export "square" (func $square))
)
