;; s3-files: a wasi:http/incoming-handler@0.2.0 guest that keeps files in the blobstore
;; container "files" (created when missing) of whatever wasi:blobstore provider it is linked
;; to (blobstore-s3, blobstore-fs). Bodies stream in both directions in 4 KiB pieces, so the
;; guest never holds a whole file: PUT /NAME starts write-data before the first byte and pipes
;; the request body into it; GET /NAME pipes consume-async into the response. DELETE /NAME
;; removes a file, GET / lists the names, one per line. A blobstore error answers 500 with
;; the provider's message. Written by hand against the canonical ABI; no WASI preview1.
(module
  (import "wasi:http/types@0.2.0" "[constructor]fields"
    (func $fields.new (result i32)))
  (import "wasi:http/types@0.2.0" "[method]fields.append"
    (func $fields.append (param i32 i32 i32 i32 i32 i32)))
  (import "wasi:http/types@0.2.0" "[method]incoming-request.method"
    (func $req.method (param i32 i32)))
  (import "wasi:http/types@0.2.0" "[method]incoming-request.path-with-query"
    (func $req.path (param i32 i32)))
  (import "wasi:http/types@0.2.0" "[method]incoming-request.consume"
    (func $req.consume (param i32 i32)))
  (import "wasi:http/types@0.2.0" "[method]incoming-body.stream"
    (func $inbody.stream (param i32 i32)))
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
  (import "wasi:http/types@0.2.0" "[resource-drop]incoming-body"
    (func $inbody.drop (param i32)))
  (import "wasi:io/streams@0.2.0" "[method]input-stream.blocking-read"
    (func $in.read (param i32 i64 i32)))
  (import "wasi:io/streams@0.2.0" "[resource-drop]input-stream"
    (func $in.drop (param i32)))
  (import "wasi:io/streams@0.2.0" "[method]output-stream.blocking-write-and-flush"
    (func $stream.write (param i32 i32 i32 i32)))
  (import "wasi:io/streams@0.2.0" "[resource-drop]output-stream"
    (func $stream.drop (param i32)))

  ;; get-container / create-container(name: string) -> result<container, error>
  (import "wasi:blobstore/blobstore@0.2.0-draft" "get-container"
    (func $bs.get (param i32 i32 i32)))
  (import "wasi:blobstore/blobstore@0.2.0-draft" "create-container"
    (func $bs.create (param i32 i32 i32)))
  ;; get-data(self, name, start: u64, end: u64) -> result<incoming-value, error>
  (import "wasi:blobstore/container@0.2.0-draft" "[method]container.get-data"
    (func $c.get-data (param i32 i32 i32 i64 i64 i32)))
  ;; write-data(self, name, data: borrow<outgoing-value>) -> result<_, error>
  (import "wasi:blobstore/container@0.2.0-draft" "[method]container.write-data"
    (func $c.write-data (param i32 i32 i32 i32 i32)))
  ;; list-objects(self) -> result<stream-object-names, error>
  (import "wasi:blobstore/container@0.2.0-draft" "[method]container.list-objects"
    (func $c.list (param i32 i32)))
  ;; read-stream-object-names(self, len: u64) -> result<tuple<list<string>, bool>, error>
  (import "wasi:blobstore/container@0.2.0-draft" "[method]stream-object-names.read-stream-object-names"
    (func $names.read (param i32 i64 i32)))
  (import "wasi:blobstore/container@0.2.0-draft" "[resource-drop]container"
    (func $c.drop (param i32)))
  (import "wasi:blobstore/container@0.2.0-draft" "[resource-drop]stream-object-names"
    (func $names.drop (param i32)))
  (import "wasi:blobstore/types@0.2.0-draft" "[static]outgoing-value.new-outgoing-value"
    (func $ov.new (result i32)))
  ;; outgoing-value-write-body(self) -> result<output-stream>
  (import "wasi:blobstore/types@0.2.0-draft" "[method]outgoing-value.outgoing-value-write-body"
    (func $ov.body (param i32 i32)))
  ;; finish(this: outgoing-value) -> result<_, error>
  (import "wasi:blobstore/types@0.2.0-draft" "[static]outgoing-value.finish"
    (func $ov.finish (param i32 i32)))
  ;; incoming-value-consume-async(this: incoming-value) -> result<input-stream, error>
  (import "wasi:blobstore/types@0.2.0-draft" "[static]incoming-value.incoming-value-consume-async"
    (func $iv.stream (param i32 i32)))
  ;; delete-object(self, name) -> result<_, error>
  (import "wasi:blobstore/container@0.2.0-draft" "[method]container.delete-object"
    (func $c.delete (param i32 i32 i32 i32)))

  (memory (export "memory") 1)

  (data (i32.const 16) "content-type")              ;; 12
  (data (i32.const 32) "text/plain")                ;; 10
  (data (i32.const 48) "files")                     ;; 5: container name
  (data (i32.const 64) "application/octet-stream")  ;; 24
  (data (i32.const 96) "container failed: ")        ;; 18
  (data (i32.const 128) "write failed: ")           ;; 14
  (data (i32.const 144) "read failed: ")            ;; 13
  (data (i32.const 160) "\n")                       ;; 1
  (data (i32.const 164) "stored ")                  ;; 7
  (data (i32.const 176) "list failed: ")            ;; 13
  (data (i32.const 192) "delete failed: ")          ;; 15
  (data (i32.const 208) "deleted ")                 ;; 8
  (data (i32.const 224) "method not allowed")       ;; 18
  (data (i32.const 256) "body read failed")         ;; 16

  ;; 1024.. return areas; heap for cabi_realloc from 4096, reset after each request and
  ;; after each streamed piece
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

  ;; respond(out, status, a, b, c as ptr/len pairs): text/plain body a ++ b ++ c
  (func $respond (param $out i32) (param $status i32)
    (param $a i32) (param $alen i32) (param $b i32) (param $blen i32) (param $c i32) (param $clen i32)
    (local $hdrs i32) (local $resp i32) (local $body i32) (local $stream i32)
    (local.set $hdrs (call $fields.new))
    (call $fields.append (local.get $hdrs)
      (i32.const 16) (i32.const 12) (i32.const 32) (i32.const 10) (i32.const 1104))
    (local.set $resp (call $resp.new (local.get $hdrs)))
    (drop (call $resp.set-status (local.get $resp) (local.get $status)))
    (call $resp.body (local.get $resp) (i32.const 1104))
    (local.set $body (i32.load (i32.const 1108)))
    (call $outparam.set (local.get $out) (i32.const 0) (local.get $resp)
      (i32.const 0) (i64.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0))
    (call $body.write (local.get $body) (i32.const 1104))
    (local.set $stream (i32.load (i32.const 1108)))
    (if (local.get $alen)
      (then (call $stream.write (local.get $stream) (local.get $a) (local.get $alen) (i32.const 1104))))
    (if (local.get $blen)
      (then (call $stream.write (local.get $stream) (local.get $b) (local.get $blen) (i32.const 1104))))
    (if (local.get $clen)
      (then (call $stream.write (local.get $stream) (local.get $c) (local.get $clen) (i32.const 1104))))
    (call $stream.drop (local.get $stream))
    (call $body.finish (local.get $body) (i32.const 0) (i32.const 0) (i32.const 1104)))

  ;; fail(out, prefix, prefix_len, ret): 500 with prefix ++ the error string of the
  ;; result<_, error> at ret (ptr @4, len @8) ++ "\n"
  (func $fail (param $out i32) (param $p i32) (param $plen i32) (param $ret i32)
    (call $respond (local.get $out) (i32.const 500) (local.get $p) (local.get $plen)
      (i32.load (i32.add (local.get $ret) (i32.const 4)))
      (i32.load (i32.add (local.get $ret) (i32.const 8)))
      (i32.const 160) (i32.const 1)))

  ;; pipe(in, os) -> 1 when in ended cleanly, 0 when a write failed: copy 4 KiB pieces from
  ;; an input stream to an output stream. Read result at 1248 (tag @0, list ptr @4, len @8),
  ;; write result at 1264.
  (func $pipe (param $in i32) (param $os i32) (result i32)
    (local $mark i32) (local $n i32)
    (local.set $mark (global.get $heap))
    (loop $pieces
      (call $in.read (local.get $in) (i64.const 4096) (i32.const 1248))
      ;; an error (closed at the end, or a failed read) ends the input
      (if (i32.load8_u (i32.const 1248)) (then (return (i32.const 1))))
      (local.set $n (i32.load (i32.const 1256)))
      (if (local.get $n)
        (then
          (call $stream.write (local.get $os) (i32.load (i32.const 1252)) (local.get $n) (i32.const 1264))
          (if (i32.load8_u (i32.const 1264)) (then (return (i32.const 0))))))
      (global.set $heap (local.get $mark))
      (br $pieces))
    (i32.const 1))

  (func (export "wasi:http/incoming-handler@0.2.0#handle")
    (param $req i32) (param $out i32)
    (local $method i32) (local $kptr i32) (local $klen i32) (local $i i32)
    (local $c i32) (local $ov i32) (local $os i32) (local $inbody i32) (local $in i32)
    (local $names i32) (local $list i32) (local $count i32) (local $text i32) (local $tlen i32)
    (local $e i32) (local $n i32) (local $hdrs i32) (local $resp i32) (local $body i32)
    (local $ok i32)

    ;; method variant at 1200: disc u8 (0 get, 3 put, 4 delete)
    (call $req.method (local.get $req) (i32.const 1200))
    (local.set $method (i32.load8_u (i32.const 1200)))
    ;; option<string> path-with-query at 1024: tag u8, ptr @1028, len @1032
    (call $req.path (local.get $req) (i32.const 1024))
    (if (i32.load8_u (i32.const 1024))
      (then
        (local.set $kptr (i32.load (i32.const 1028)))
        (local.set $klen (i32.load (i32.const 1032)))))
    ;; strip the leading '/', cut at '?'
    (if (i32.and (i32.gt_u (local.get $klen) (i32.const 0))
                 (i32.eq (i32.load8_u (local.get $kptr)) (i32.const 47)))
      (then
        (local.set $kptr (i32.add (local.get $kptr) (i32.const 1)))
        (local.set $klen (i32.sub (local.get $klen) (i32.const 1)))))
    (block $done
      (loop $scan
        (br_if $done (i32.ge_u (local.get $i) (local.get $klen)))
        (if (i32.eq (i32.load8_u (i32.add (local.get $kptr) (local.get $i))) (i32.const 63))
          (then (local.set $klen (local.get $i)) (br $done)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $scan)))

    (if (i32.eqz (i32.or (i32.eqz (local.get $method))
                         (i32.or (i32.eq (local.get $method) (i32.const 3))
                                 (i32.eq (local.get $method) (i32.const 4)))))
      (then
        (call $req.drop (local.get $req))
        (call $respond (local.get $out) (i32.const 405) (i32.const 224) (i32.const 18)
          (i32.const 160) (i32.const 1) (i32.const 0) (i32.const 0))
        (global.set $heap (i32.const 4096))
        (return)))

    ;; the container "files": result<container, error> at 1280 (tag, handle or error @1284)
    (call $bs.get (i32.const 48) (i32.const 5) (i32.const 1280))
    (if (i32.load8_u (i32.const 1280))
      (then (call $bs.create (i32.const 48) (i32.const 5) (i32.const 1280))))
    (if (i32.load8_u (i32.const 1280))
      (then
        (call $req.drop (local.get $req))
        (call $fail (local.get $out) (i32.const 96) (i32.const 18) (i32.const 1280))
        (global.set $heap (i32.const 4096))
        (return)))
    (local.set $c (i32.load (i32.const 1284)))

    (if (i32.eq (local.get $method) (i32.const 3))
      (then
        ;; PUT: write-data first (the provider starts writing), then pipe the request body
        ;; into the value's stream, then finish (waits for the provider's write)
        (call $req.consume (local.get $req) (i32.const 1216))
        (if (i32.load8_u (i32.const 1216))
          (then
            (call $req.drop (local.get $req))
            (call $c.drop (local.get $c))
            (call $respond (local.get $out) (i32.const 500) (i32.const 256) (i32.const 16)
              (i32.const 160) (i32.const 1) (i32.const 0) (i32.const 0))
            (global.set $heap (i32.const 4096))
            (return)))
        (local.set $inbody (i32.load (i32.const 1220)))
        (call $inbody.stream (local.get $inbody) (i32.const 1232))
        (local.set $in (i32.load (i32.const 1236)))
        (local.set $ov (call $ov.new))
        (call $c.write-data (local.get $c) (local.get $kptr) (local.get $klen) (local.get $ov) (i32.const 1296))
        (if (i32.load8_u (i32.const 1296))
          (then
            (call $in.drop (local.get $in))
            (call $inbody.drop (local.get $inbody))
            (call $req.drop (local.get $req))
            (call $ov.finish (local.get $ov) (i32.const 1312))
            (call $c.drop (local.get $c))
            (call $fail (local.get $out) (i32.const 128) (i32.const 14) (i32.const 1296))
            (global.set $heap (i32.const 4096))
            (return)))
        (call $ov.body (local.get $ov) (i32.const 1304))
        (local.set $os (i32.load (i32.const 1308)))
        (local.set $ok (call $pipe (local.get $in) (local.get $os)))
        (call $stream.drop (local.get $os))
        (call $in.drop (local.get $in))
        (call $inbody.drop (local.get $inbody))
        (call $req.drop (local.get $req))
        (call $ov.finish (local.get $ov) (i32.const 1312))
        (call $c.drop (local.get $c))
        (if (i32.load8_u (i32.const 1312))
          (then (call $fail (local.get $out) (i32.const 128) (i32.const 14) (i32.const 1312)))
          (else
            (if (local.get $ok)
              (then
                (call $respond (local.get $out) (i32.const 200) (i32.const 164) (i32.const 7)
                  (local.get $kptr) (local.get $klen) (i32.const 160) (i32.const 1)))
              (else
                (call $respond (local.get $out) (i32.const 500) (i32.const 128) (i32.const 14)
                  (i32.const 256) (i32.const 16) (i32.const 160) (i32.const 1))))))
        (global.set $heap (i32.const 4096))
        (return)))
    (call $req.drop (local.get $req))

    (if (i32.eq (local.get $method) (i32.const 4))
      (then
        ;; DELETE /NAME
        (call $c.delete (local.get $c) (local.get $kptr) (local.get $klen) (i32.const 1296))
        (call $c.drop (local.get $c))
        (if (i32.load8_u (i32.const 1296))
          (then (call $fail (local.get $out) (i32.const 192) (i32.const 15) (i32.const 1296)))
          (else
            (call $respond (local.get $out) (i32.const 200) (i32.const 208) (i32.const 8)
              (local.get $kptr) (local.get $klen) (i32.const 160) (i32.const 1))))
        (global.set $heap (i32.const 4096))
        (return)))

    (if (local.get $klen)
      (then
        ;; GET /NAME: get-data(name, 0, u64::MAX) at 1296, consume-async at 1312, then the
        ;; object streams into the response body
        (call $c.get-data (local.get $c) (local.get $kptr) (local.get $klen)
          (i64.const 0) (i64.const -1) (i32.const 1296))
        (call $c.drop (local.get $c))
        (if (i32.load8_u (i32.const 1296))
          (then
            (call $fail (local.get $out) (i32.const 144) (i32.const 13) (i32.const 1296))
            (global.set $heap (i32.const 4096))
            (return)))
        (call $iv.stream (i32.load (i32.const 1300)) (i32.const 1312))
        (if (i32.load8_u (i32.const 1312))
          (then
            (call $fail (local.get $out) (i32.const 144) (i32.const 13) (i32.const 1312))
            (global.set $heap (i32.const 4096))
            (return)))
        (local.set $in (i32.load (i32.const 1316)))
        (local.set $hdrs (call $fields.new))
        (call $fields.append (local.get $hdrs)
          (i32.const 16) (i32.const 12) (i32.const 64) (i32.const 24) (i32.const 1104))
        (local.set $resp (call $resp.new (local.get $hdrs)))
        (call $resp.body (local.get $resp) (i32.const 1104))
        (local.set $body (i32.load (i32.const 1108)))
        (call $outparam.set (local.get $out) (i32.const 0) (local.get $resp)
          (i32.const 0) (i64.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0))
        (call $body.write (local.get $body) (i32.const 1104))
        (local.set $os (i32.load (i32.const 1108)))
        (drop (call $pipe (local.get $in) (local.get $os)))
        (call $in.drop (local.get $in))
        (call $stream.drop (local.get $os))
        (call $body.finish (local.get $body) (i32.const 0) (i32.const 0) (i32.const 1104))
        (global.set $heap (i32.const 4096))
        (return)))

    ;; GET /: list-objects at 1328, then reads of up to 1000 names at 1344 until the end:
    ;; tag @0, list ptr @4, count @8, end-of-stream @12
    (call $c.list (local.get $c) (i32.const 1328))
    (call $c.drop (local.get $c))
    (if (i32.load8_u (i32.const 1328))
      (then
        (call $fail (local.get $out) (i32.const 176) (i32.const 13) (i32.const 1328))
        (global.set $heap (i32.const 4096))
        (return)))
    (local.set $names (i32.load (i32.const 1332)))
    (local.set $text (call $realloc (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 0)))
    (block $all
      (loop $pages
        (call $names.read (local.get $names) (i64.const 1000) (i32.const 1344))
        (if (i32.load8_u (i32.const 1344))
          (then
            (call $names.drop (local.get $names))
            (call $fail (local.get $out) (i32.const 176) (i32.const 13) (i32.const 1344))
            (global.set $heap (i32.const 4096))
            (return)))
        (local.set $list (i32.load (i32.const 1348)))
        (local.set $count (i32.load (i32.const 1352)))
        ;; join: each element is a string (ptr, len) of 8 bytes; append name ++ "\n"
        (local.set $i (i32.const 0))
        (block $joined
          (loop $each
            (br_if $joined (i32.ge_u (local.get $i) (local.get $count)))
            (local.set $e (i32.add (local.get $list) (i32.shl (local.get $i) (i32.const 3))))
            (local.set $n (i32.load (i32.add (local.get $e) (i32.const 4))))
            (local.set $text (call $realloc (local.get $text) (local.get $tlen) (i32.const 1)
              (i32.add (local.get $tlen) (i32.add (local.get $n) (i32.const 1)))))
            (memory.copy (i32.add (local.get $text) (local.get $tlen)) (i32.load (local.get $e)) (local.get $n))
            (local.set $tlen (i32.add (local.get $tlen) (local.get $n)))
            (i32.store8 (i32.add (local.get $text) (local.get $tlen)) (i32.const 10))
            (local.set $tlen (i32.add (local.get $tlen) (i32.const 1)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $each)))
        (br_if $all (i32.load8_u (i32.const 1356)))
        (br_if $all (i32.eqz (local.get $count)))
        (br $pages)))
    (call $names.drop (local.get $names))
    (call $respond (local.get $out) (i32.const 200) (local.get $text) (local.get $tlen)
      (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0))
    (global.set $heap (i32.const 4096)))
)
