;; msgecho: exports wasmcloud:messaging/handler@0.2.0 and imports consumer@0.2.0. For each
;; message it publishes "echo: " ++ body to the message's reply-to subject, or to
;; "echo.replies" when the message has no reply-to. A failed publish is returned as the
;; handler's error. Written by hand against the canonical ABI; no WASI, no adapter.
(module
  ;; publish(msg: broker-message) -> result<_, string>
  ;; msg flattened: subject (ptr, len), body (ptr, len), reply-to (tag, ptr, len); then retptr
  (import "wasmcloud:messaging/consumer@0.2.0" "publish"
    (func $publish (param i32 i32 i32 i32 i32 i32 i32 i32)))

  (memory (export "memory") 1)

  (data (i32.const 16) "echo: ")        ;; 6
  (data (i32.const 32) "echo.replies")  ;; 12

  ;; 1024: handler's return area, 1040: publish's return area, heap for cabi_realloc from 4096
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

  ;; handle-message(msg: broker-message) -> result<_, string>; the result is returned through
  ;; a return area: tag u8 @0, error string ptr @4, len @8.
  (func (export "wasmcloud:messaging/handler@0.2.0#handle-message")
    (param $subj i32) (param $subj_len i32)
    (param $body i32) (param $body_len i32)
    (param $has_reply i32) (param $reply i32) (param $reply_len i32)
    (result i32)
    (local $buf i32) (local $to i32) (local $to_len i32)
    ;; "echo: " ++ body
    (local.set $buf (call $realloc (i32.const 0) (i32.const 0) (i32.const 1)
      (i32.add (local.get $body_len) (i32.const 6))))
    (memory.copy (local.get $buf) (i32.const 16) (i32.const 6))
    (memory.copy (i32.add (local.get $buf) (i32.const 6)) (local.get $body) (local.get $body_len))
    (local.set $to (i32.const 32))
    (local.set $to_len (i32.const 12))
    (if (local.get $has_reply)
      (then (local.set $to (local.get $reply)) (local.set $to_len (local.get $reply_len))))
    (call $publish (local.get $to) (local.get $to_len)
      (local.get $buf) (i32.add (local.get $body_len) (i32.const 6))
      (i32.const 0) (i32.const 0) (i32.const 0)
      (i32.const 1040))
    ;; pass publish's result<_, string> through (the error string stays in memory until the
    ;; next call, after the host has read it)
    (i32.store8 (i32.const 1024) (i32.load8_u (i32.const 1040)))
    (i32.store (i32.const 1028) (i32.load (i32.const 1044)))
    (i32.store (i32.const 1032) (i32.load (i32.const 1048)))
    (global.set $heap (i32.const 4096))
    (i32.const 1024))
)
