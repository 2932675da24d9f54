;; wasi:http test guest for the host's failure paths, derived from the wat-hello fixture.
;; The first letter of the path picks the behaviour: /trap -> unreachable, /spin -> endless
;; loop, /alloc -> grow memory until memory.grow fails, then trap (what a real allocator
;; does), /fill -> grow memory until memory.grow fails, write every 4 KiB page of it, then
;; answer normally; anything else answers 200 "limits guest, path=<path>".
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

  (memory (export "memory") 1)

  ;; constant data
  (data (i32.const 16) "content-type")          ;; 12 bytes
  (data (i32.const 32) "text/plain")            ;; 10 bytes
  (data (i32.const 48) "limits guest, path=")              ;; 19 bytes

  ;; scratch: 1024 = return area (16 bytes), heap for cabi_realloc from 4096
  (global $heap (mut i32) (i32.const 4096))

  ;; bump allocator; the host calls this to lower strings/lists into our memory
  (func $realloc (export "cabi_realloc")
    (param $old i32) (param $old_size i32) (param $align i32) (param $new_size i32)
    (result i32)
    (local $p i32)
    ;; p = align_up(heap, align)
    (local.set $p
      (i32.and
        (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1)))
        (i32.sub (i32.const 0) (local.get $align))))
    (global.set $heap (i32.add (local.get $p) (local.get $new_size)))
    ;; grow memory if needed
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
    ;; copy old contents on realloc
    (if (i32.ne (local.get $old) (i32.const 0))
      (then (memory.copy (local.get $p) (local.get $old) (local.get $old_size))))
    (local.get $p))

  (func (export "wasi:http/incoming-handler@0.2.0#handle")
    (param $req i32) (param $out i32)
    (local $hdrs i32) (local $resp i32) (local $body i32) (local $stream i32)
    (local $has_path i32) (local $path_ptr i32) (local $path_len i32)

    ;; option<string> path-with-query -> retptr 1024: [tag u8][pad][ptr i32 @1028][len i32 @1032]
    (call $req.path (local.get $req) (i32.const 1024))
    (local.set $has_path (i32.load8_u (i32.const 1024)))
    (local.set $path_ptr (i32.load (i32.const 1028)))
    (local.set $path_len (i32.load (i32.const 1032)))
    (call $req.drop (local.get $req))

    (if (i32.and (local.get $has_path) (i32.gt_u (local.get $path_len) (i32.const 1)))
      (then
        (if (i32.eq (i32.load8_u (i32.add (local.get $path_ptr) (i32.const 1))) (i32.const 116)) ;; 't'
          (then unreachable))
        (if (i32.eq (i32.load8_u (i32.add (local.get $path_ptr) (i32.const 1))) (i32.const 115)) ;; 's'
          (then (loop $l (br $l))))
        (if (i32.eq (i32.load8_u (i32.add (local.get $path_ptr) (i32.const 1))) (i32.const 97)) ;; 'a'
          (then
            (loop $g
              (if (i32.eq (memory.grow (i32.const 16)) (i32.const -1)) (then unreachable))
              (br $g))))
        (if (i32.eq (i32.load8_u (i32.add (local.get $path_ptr) (i32.const 1))) (i32.const 102)) ;; 'f'
          (then
            (block $full
              (loop $g
                (br_if $full (i32.eq (memory.grow (i32.const 16)) (i32.const -1)))
                (br $g)))
            ;; touch every page past the first 64 KiB (which holds the path and scratch)
            (local.set $hdrs (i32.const 65536))
            (block $done
              (loop $t
                (br_if $done (i32.ge_u (local.get $hdrs) (i32.mul (memory.size) (i32.const 65536))))
                (i32.store8 (local.get $hdrs) (i32.const 1))
                (local.set $hdrs (i32.add (local.get $hdrs) (i32.const 4096)))
                (br $t)))))))

    ;; headers = fields(); headers.append("content-type", "text/plain")
    (local.set $hdrs (call $fields.new))
    (call $fields.append (local.get $hdrs)
      (i32.const 16) (i32.const 12) (i32.const 32) (i32.const 10) (i32.const 1024))

    ;; response = outgoing-response(headers); status 200
    (local.set $resp (call $resp.new (local.get $hdrs)))
    (drop (call $resp.set-status (local.get $resp) (i32.const 200)))

    ;; body = response.body()  -> result<own<outgoing-body>>: [tag u8 @1024][handle @1028]
    (call $resp.body (local.get $resp) (i32.const 1024))
    (local.set $body (i32.load (i32.const 1028)))

    ;; response-outparam.set(out, ok(response))
    (call $outparam.set (local.get $out) (i32.const 0) (local.get $resp)
      (i32.const 0) (i64.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0))

    ;; stream = body.write()
    (call $body.write (local.get $body) (i32.const 1024))
    (local.set $stream (i32.load (i32.const 1028)))

    (call $stream.write (local.get $stream) (i32.const 48) (i32.const 19) (i32.const 1024))
    (if (local.get $has_path)
      (then (call $stream.write (local.get $stream)
              (local.get $path_ptr) (local.get $path_len) (i32.const 1024))))
    ;; trailing newline (reuse byte 10 = '\n' written at 2000)
    (i32.store8 (i32.const 2000) (i32.const 10))
    (call $stream.write (local.get $stream) (i32.const 2000) (i32.const 1) (i32.const 1024))
    (call $stream.drop (local.get $stream))

    ;; outgoing-body.finish(body, none)
    (call $body.finish (local.get $body) (i32.const 0) (i32.const 0) (i32.const 1024))
    ;; reset the bump heap after each request
    (global.set $heap (i32.const 4096)))
)
