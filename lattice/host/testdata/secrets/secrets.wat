;; wasi:http guest for the host's wasmcloud:secrets tests (same skeleton as ../httplimits).
;; GET /<name> fetches the secret <name> with wasmcloud:secrets/store.get and answers its
;; revealed value; a secret the component was not given answers 404 "not found: <name>", any
;; other store error 500 "error: <message>".
(module
  (import "wasi:http/types@0.2.0" "[constructor]fields"
    (func $fields.new (result i32)))
  (import "wasi:http/types@0.2.0" "[method]fields.append"
    (func $fields.append (param i32 i32 i32 i32 i32 i32)))
  (import "wasi:http/types@0.2.0" "[method]incoming-request.path-with-query"
    (func $req.path (param i32 i32)))
  (import "wasi:http/types@0.2.0" "[constructor]outgoing-response"
    (func $resp.new (param i32) (result i32)))
  (import "wasi:http/types@0.2.0" "[method]outgoing-response.set-status-code"
    (func $resp.set-status (param i32 i32) (result i32)))
  (import "wasi:http/types@0.2.0" "[method]outgoing-response.body"
    (func $resp.body (param i32 i32)))
  (import "wasi:http/types@0.2.0" "[method]outgoing-body.write"
    (func $body.write (param i32 i32)))
  (import "wasi:http/types@0.2.0" "[static]outgoing-body.finish"
    (func $body.finish (param i32 i32 i32 i32)))
  (import "wasi:http/types@0.2.0" "[static]response-outparam.set"
    (func $outparam.set (param i32 i32 i32 i32 i64 i32 i32 i32 i32)))
  (import "wasi:http/types@0.2.0" "[resource-drop]incoming-request"
    (func $req.drop (param i32)))
  (import "wasi:io/streams@0.2.0" "[method]output-stream.blocking-write-and-flush"
    (func $stream.write (param i32 i32 i32 i32)))
  (import "wasi:io/streams@0.2.0" "[resource-drop]output-stream"
    (func $stream.drop (param i32)))
  ;; get(key: string) -> result<secret, secrets-error>, returned through a pointer:
  ;; [tag u8 @0] ok: [handle i32 @4]; err: [case u8 @4][ptr i32 @8][len i32 @12]
  (import "wasmcloud:secrets/store@0.1.0-draft" "get"
    (func $secrets.get (param i32 i32 i32)))
  (import "wasmcloud:secrets/store@0.1.0-draft" "[resource-drop]secret"
    (func $secret.drop (param i32)))
  ;; reveal(borrow<secret>) -> secret-value: [case u8 @0][ptr i32 @4][len i32 @8]
  (import "wasmcloud:secrets/reveal@0.1.0-draft" "reveal"
    (func $reveal (param i32 i32)))

  (memory (export "memory") 1)

  (data (i32.const 16) "content-type")   ;; 12 bytes
  (data (i32.const 32) "text/plain")     ;; 10 bytes
  (data (i32.const 48) "not found: ")    ;; 11 bytes
  (data (i32.const 64) "error: ")        ;; 7 bytes

  ;; 1024: http return area; 1100: get's result; 1120: reveal's result; heap from 4096
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

  (func (export "wasi:http/incoming-handler@0.2.0#handle")
    (param $req i32) (param $out i32)
    (local $hdrs i32) (local $resp i32) (local $body i32) (local $stream i32)
    (local $key_ptr i32) (local $key_len i32) (local $status i32)
    (local $p1 i32) (local $l1 i32) (local $p2 i32) (local $l2 i32) (local $h i32)

    ;; key = path-with-query without the leading '/'
    (call $req.path (local.get $req) (i32.const 1024))
    (local.set $key_ptr (i32.add (i32.load (i32.const 1028)) (i32.const 1)))
    (local.set $key_len (i32.sub (i32.load (i32.const 1032)) (i32.const 1)))
    (if (i32.eqz (i32.load8_u (i32.const 1024)))
      (then (local.set $key_len (i32.const 0))))
    (if (i32.lt_s (local.get $key_len) (i32.const 0))
      (then (local.set $key_len (i32.const 0))))
    (call $req.drop (local.get $req))

    (call $secrets.get (local.get $key_ptr) (local.get $key_len) (i32.const 1100))
    (if (i32.eqz (i32.load8_u (i32.const 1100)))
      (then
        ;; ok: reveal, answer the value (string or bytes alike), drop the handle
        (local.set $h (i32.load (i32.const 1104)))
        (call $reveal (local.get $h) (i32.const 1120))
        (local.set $p1 (i32.load (i32.const 1124)))
        (local.set $l1 (i32.load (i32.const 1128)))
        (call $secret.drop (local.get $h))
        (local.set $status (i32.const 200)))
      (else
        (if (i32.eq (i32.load8_u (i32.const 1104)) (i32.const 2))
          (then
            (local.set $status (i32.const 404))
            (local.set $p1 (i32.const 48)) (local.set $l1 (i32.const 11))
            (local.set $p2 (local.get $key_ptr)) (local.set $l2 (local.get $key_len)))
          (else
            (local.set $status (i32.const 500))
            (local.set $p1 (i32.const 64)) (local.set $l1 (i32.const 7))
            (local.set $p2 (i32.load (i32.const 1108))) (local.set $l2 (i32.load (i32.const 1112)))))))

    (local.set $hdrs (call $fields.new))
    (call $fields.append (local.get $hdrs)
      (i32.const 16) (i32.const 12) (i32.const 32) (i32.const 10) (i32.const 1024))
    (local.set $resp (call $resp.new (local.get $hdrs)))
    (drop (call $resp.set-status (local.get $resp) (local.get $status)))
    (call $resp.body (local.get $resp) (i32.const 1024))
    (local.set $body (i32.load (i32.const 1028)))
    (call $outparam.set (local.get $out) (i32.const 0) (local.get $resp)
      (i32.const 0) (i64.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0))
    (call $body.write (local.get $body) (i32.const 1024))
    (local.set $stream (i32.load (i32.const 1028)))
    (call $stream.write (local.get $stream) (local.get $p1) (local.get $l1) (i32.const 1024))
    (if (local.get $l2)
      (then (call $stream.write (local.get $stream) (local.get $p2) (local.get $l2) (i32.const 1024))))
    (call $stream.drop (local.get $stream))
    (call $body.finish (local.get $body) (i32.const 0) (i32.const 0) (i32.const 1024))
    (global.set $heap (i32.const 4096)))
)
