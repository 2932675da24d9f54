;; pgnotes: a test component for wasmcloud:postgres/prepared. A wasi:http/incoming-handler@0.2.0
;; guest: each request prepares "INSERT INTO pg_notes (note) VALUES ($1)", executes it with the
;; request path (without the leading "/" and the query) as a text parameter and answers
;; "inserted <rows>". A path starting with "~" skips prepare and executes with the token
;; "stale-token", which the provider does not know: the answer is 404. Errors answer 500 with
;; the provider's message. Hand-written against the canonical ABI: no WASI preview1, no adapter.
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
  ;; prepare(statement: string) -> result<prepared-statement-token, statement-prepare-error>
  (import "wasmcloud:postgres/prepared@0.1.1-draft" "prepare"
    (func $pg.prepare (param i32 i32 i32)))
  ;; exec(stmt-token: string, params: list<pg-value>) -> result<u64, prepared-statement-exec-error>
  (import "wasmcloud:postgres/prepared@0.1.1-draft" "exec"
    (func $pg.exec (param i32 i32 i32 i32 i32)))

  (memory (export "memory") 1)

  (data (i32.const 16) "content-type")                 ;; 12
  (data (i32.const 32) "text/plain")                   ;; 10
  (data (i32.const 176) "\n")                          ;; 1
  (data (i32.const 192) "inserted ")                   ;; 9
  (data (i32.const 208) "unknown prepared statement")  ;; 26
  (data (i32.const 240) "prepare failed: ")            ;; 16
  (data (i32.const 272) "exec failed: ")               ;; 13
  (data (i32.const 304) "stale-token")                 ;; 11
  (data (i32.const 2048) "INSERT INTO pg_notes (note) VALUES ($1)") ;; 39

  ;; 1024.. option<string> path, 1040..1056 prepare's result, 1072..1096 exec's result,
  ;; 1104.. scratch of respond, 1200..1272 the one parameter (a pg-value), 3000..3032 number
  ;; text, heap for cabi_realloc from 4096
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

  ;; respond(out, status, a_ptr, a_len, b_ptr, b_len): text/plain body a ++ b ++ "\n"
  (func $respond (param $out i32) (param $status i32)
    (param $a i32) (param $alen i32) (param $b i32) (param $blen i32)
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
    (call $stream.write (local.get $stream) (i32.const 176) (i32.const 1) (i32.const 1104))
    (call $stream.drop (local.get $stream))
    (call $body.finish (local.get $body) (i32.const 0) (i32.const 0) (i32.const 1104)))

  (func (export "wasi:http/incoming-handler@0.2.0#handle")
    (param $req i32) (param $out i32)
    (local $kptr i32) (local $klen i32) (local $i i32)
    (local $tptr i32) (local $tlen i32) (local $n i64) (local $pos i32)

    ;; option<string> path-with-query at 1024: tag u8, ptr @1028, len @1032
    (call $req.path (local.get $req) (i32.const 1024))
    (if (i32.load8_u (i32.const 1024))
      (then
        (local.set $kptr (i32.load (i32.const 1028)))
        (local.set $klen (i32.load (i32.const 1032)))))
    (call $req.drop (local.get $req))
    ;; strip the leading '/'
    (if (i32.and (i32.gt_u (local.get $klen) (i32.const 0))
                 (i32.eq (i32.load8_u (local.get $kptr)) (i32.const 47)))
      (then
        (local.set $kptr (i32.add (local.get $kptr) (i32.const 1)))
        (local.set $klen (i32.sub (local.get $klen) (i32.const 1)))))
    ;; cut at '?'
    (local.set $i (i32.const 0))
    (block $done
      (loop $scan
        (br_if $done (i32.ge_u (local.get $i) (local.get $klen)))
        (if (i32.eq (i32.load8_u (i32.add (local.get $kptr) (local.get $i))) (i32.const 63))
          (then (local.set $klen (local.get $i)) (br $done)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $scan)))

    (if (i32.and (i32.gt_u (local.get $klen) (i32.const 0))
                 (i32.eq (i32.load8_u (local.get $kptr)) (i32.const 126)))
      (then
        ;; "~...": a token the provider never handed out
        (local.set $tptr (i32.const 304))
        (local.set $tlen (i32.const 11)))
      (else
        ;; result at 1040: tag u8; ok: token ptr @1044, len @1048; err: statement-prepare-error
        ;; tag @1044, message ptr @1048, len @1052
        (call $pg.prepare (i32.const 2048) (i32.const 39) (i32.const 1040))
        (if (i32.load8_u (i32.const 1040))
          (then
            (call $respond (local.get $out) (i32.const 500) (i32.const 240) (i32.const 16)
              (i32.load (i32.const 1048)) (i32.load (i32.const 1052)))
            (global.set $heap (i32.const 4096))
            (return)))
        (local.set $tptr (i32.load (i32.const 1044)))
        (local.set $tlen (i32.load (i32.const 1048)))))

    ;; the parameter: pg-value::text(note), case 88, string at +8
    (i32.store8 (i32.const 1200) (i32.const 88))
    (i32.store (i32.const 1208) (local.get $kptr))
    (i32.store (i32.const 1212) (local.get $klen))
    ;; result at 1072: tag u8; ok: u64 @1080; err: prepared-statement-exec-error tag @1080,
    ;; payload @1084 (query-error: tag @1084, message ptr @1088, len @1092; unexpected:
    ;; message ptr @1084, len @1088)
    (call $pg.exec (local.get $tptr) (local.get $tlen) (i32.const 1200) (i32.const 1) (i32.const 1072))
    (if (i32.load8_u (i32.const 1072))
      (then
        (if (i32.eqz (i32.load8_u (i32.const 1080)))
          (then
            (call $respond (local.get $out) (i32.const 404) (i32.const 208) (i32.const 26) (i32.const 0) (i32.const 0)))
          (else
            (if (i32.eq (i32.load8_u (i32.const 1080)) (i32.const 1))
              (then
                (call $respond (local.get $out) (i32.const 500) (i32.const 272) (i32.const 13)
                  (i32.load (i32.const 1088)) (i32.load (i32.const 1092))))
              (else
                (call $respond (local.get $out) (i32.const 500) (i32.const 272) (i32.const 13)
                  (i32.load (i32.const 1084)) (i32.load (i32.const 1088)))))))
        (global.set $heap (i32.const 4096))
        (return)))
    (local.set $n (i64.load (i32.const 1080)))

    ;; "inserted " and the decimal text of n, written backwards ending at 3032
    (local.set $pos (i32.const 3032))
    (loop $digits
      (local.set $pos (i32.sub (local.get $pos) (i32.const 1)))
      (i64.store8 (local.get $pos)
        (i64.add (i64.rem_u (local.get $n) (i64.const 10)) (i64.const 48)))
      (local.set $n (i64.div_u (local.get $n) (i64.const 10)))
      (br_if $digits (i64.ne (local.get $n) (i64.const 0))))
    (call $respond (local.get $out) (i32.const 200)
      (i32.const 192) (i32.const 9) (local.get $pos) (i32.sub (i32.const 3032) (local.get $pos)))
    (global.set $heap (i32.const 4096)))
)
