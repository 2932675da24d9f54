;; front: the edge tier of edge-core. A wasi:http/incoming-handler@0.2.0 guest that takes
;; the request path (without the leading "/" and the query) as text, asks
;; wash:edgecore/backend@0.1.0#summarize(text, 3) (wit/backend.wit) and answers
;;   200  greeting: ...\nlength: N\nwords: a, b, c\n
;;   400  error: <the backend's message>\n
;; The backend runs wherever the lattice placed it; the host carries the call over wRPC. If no
;; backend answers, the call traps and the HTTP server answers 5xx.
;; Written by hand against the canonical ABI; no WASI preview1, no adapter.
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
  ;; summarize(text: string, max-words: u32) -> result<summary, string>, returned through
  ;; the last parameter: [0] discriminant, [4] ptr, [8] len, [12] length, [16] words, [20] count
  (import "wash:edgecore/backend@0.1.0" "summarize"
    (func $summarize (param i32 i32 i32 i32)))

  (memory (export "memory") 1)

  (data (i32.const 16) "content-type")  ;; 12
  (data (i32.const 32) "text/plain")    ;; 10
  (data (i32.const 48) "greeting: ")    ;; 10
  (data (i32.const 64) "\0alength: ")   ;; 9
  (data (i32.const 80) "\0awords: ")    ;; 8
  (data (i32.const 96) ", ")            ;; 2
  (data (i32.const 112) "error: ")      ;; 7
  (data (i32.const 128) "\0a")          ;; 1

  ;; 1024.. return areas, 1100.. the summarize result, 3000..3016 digits, heap from 4096
  (global $heap (mut i32) (i32.const 4096))
  (global $out (mut i32) (i32.const 0))
  (global $outlen (mut i32) (i32.const 0))

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

  (func $append (param $p i32) (param $n i32)
    (memory.copy (i32.add (global.get $out) (global.get $outlen)) (local.get $p) (local.get $n))
    (global.set $outlen (i32.add (global.get $outlen) (local.get $n))))

  ;; decimal digits of $v
  (func $append_u32 (param $v i32)
    (local $p i32)
    (local.set $p (i32.const 3016))
    (loop $digit
      (local.set $p (i32.sub (local.get $p) (i32.const 1)))
      (i32.store8 (local.get $p) (i32.add (i32.const 48) (i32.rem_u (local.get $v) (i32.const 10))))
      (local.set $v (i32.div_u (local.get $v) (i32.const 10)))
      (br_if $digit (i32.ne (local.get $v) (i32.const 0))))
    (call $append (local.get $p) (i32.sub (i32.const 3016) (local.get $p))))

  (func (export "wasi:http/incoming-handler@0.2.0#handle")
    (param $req i32) (param $out i32)
    (local $hdrs i32) (local $resp i32) (local $body i32) (local $stream i32)
    (local $text i32) (local $len i32) (local $i i32) (local $status i32)
    (local $words i32) (local $n i32) (local $k i32) (local $chunk i32)

    ;; option<string> path-with-query -> [1024] tag, [1028] ptr, [1032] len
    (call $req.path (local.get $req) (i32.const 1024))
    (if (i32.load8_u (i32.const 1024))
      (then
        (local.set $text (i32.load (i32.const 1028)))
        (local.set $len (i32.load (i32.const 1032)))))
    (call $req.drop (local.get $req))
    ;; drop the leading "/" and everything from "?"
    (if (i32.and (i32.gt_u (local.get $len) (i32.const 0))
                 (i32.eq (i32.load8_u (local.get $text)) (i32.const 47)))
      (then
        (local.set $text (i32.add (local.get $text) (i32.const 1)))
        (local.set $len (i32.sub (local.get $len) (i32.const 1)))))
    (block $cut
      (loop $scan
        (br_if $cut (i32.ge_u (local.get $i) (local.get $len)))
        (if (i32.eq (i32.load8_u (i32.add (local.get $text) (local.get $i))) (i32.const 63))
          (then (local.set $len (local.get $i)) (br $cut)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $scan)))

    (global.set $out (call $realloc (i32.const 0) (i32.const 0) (i32.const 1)
      (i32.add (i32.const 256) (i32.mul (local.get $len) (i32.const 3)))))
    (global.set $outlen (i32.const 0))

    (call $summarize (local.get $text) (local.get $len) (i32.const 3) (i32.const 1100))
    (local.set $status (i32.const 200))
    (if (i32.eqz (i32.load8_u (i32.const 1100)))
      (then
        (call $append (i32.const 48) (i32.const 10))
        (call $append (i32.load (i32.const 1104)) (i32.load (i32.const 1108)))
        (call $append (i32.const 64) (i32.const 9))
        (call $append_u32 (i32.load (i32.const 1112)))
        (call $append (i32.const 80) (i32.const 8))
        (local.set $words (i32.load (i32.const 1116)))
        (local.set $n (i32.load (i32.const 1120)))
        (block $end
          (loop $word
            (br_if $end (i32.ge_u (local.get $k) (local.get $n)))
            (if (local.get $k) (then (call $append (i32.const 96) (i32.const 2))))
            (call $append
              (i32.load (i32.add (local.get $words) (i32.shl (local.get $k) (i32.const 3))))
              (i32.load offset=4 (i32.add (local.get $words) (i32.shl (local.get $k) (i32.const 3)))))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $word))))
      (else
        (local.set $status (i32.const 400))
        (call $append (i32.const 112) (i32.const 7))
        (call $append (i32.load (i32.const 1104)) (i32.load (i32.const 1108)))))
    (call $append (i32.const 128) (i32.const 1))

    ;; headers = fields(); headers.append("content-type", "text/plain")
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
    ;; blocking-write-and-flush takes at most 4096 bytes at a time
    (local.set $i (i32.const 0))
    (block $written
      (loop $write
        (br_if $written (i32.ge_u (local.get $i) (global.get $outlen)))
        (local.set $chunk (i32.sub (global.get $outlen) (local.get $i)))
        (if (i32.gt_u (local.get $chunk) (i32.const 4096)) (then (local.set $chunk (i32.const 4096))))
        (call $stream.write (local.get $stream)
          (i32.add (global.get $out) (local.get $i)) (local.get $chunk) (i32.const 1024))
        (local.set $i (i32.add (local.get $i) (local.get $chunk)))
        (br $write)))
    (call $stream.drop (local.get $stream))
    (call $body.finish (local.get $body) (i32.const 0) (i32.const 0) (i32.const 1024)))
)
