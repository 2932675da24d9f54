;; pg-counter: the wasmCloud tutorial's counter on PostgreSQL. A wasi:http/incoming-handler@0.2.0
;; guest: each request increments the counter named by the request path (without the leading
;; "/" and the query; "/" counts as "root") in the table pg_counter through
;; wasmcloud:postgres/query, records the new value in pg_counter_log (one statement, so both
;; change together) and answers it. When the statement fails it creates the tables (IF NOT
;; EXISTS) and tries once more; a second failure answers 500 with the provider's message.
;; Hand-written against the canonical ABI: no WASI preview1, no adapter.
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
  ;; query(query: string, params: list<pg-value>) -> result<list<result-row>, query-error>
  (import "wasmcloud:postgres/query@0.1.1-draft" "query"
    (func $pg.query (param i32 i32 i32 i32 i32)))
  ;; query-batch(query: string) -> result<_, query-error>
  (import "wasmcloud:postgres/query@0.1.1-draft" "query-batch"
    (func $pg.batch (param i32 i32 i32)))

  (memory (export "memory") 1)

  (data (i32.const 16) "content-type")                 ;; 12
  (data (i32.const 32) "text/plain")                   ;; 10
  (data (i32.const 64) "root")                         ;; 4: key for "/"
  (data (i32.const 80) "query failed: ")               ;; 14
  (data (i32.const 96) "unexpected result")            ;; 17
  (data (i32.const 176) "\n")                          ;; 1
  (data (i32.const 2048) "WITH c AS (INSERT INTO pg_counter (key, value) VALUES ($1, 1) ON CONFLICT (key) DO UPDATE SET value = pg_counter.value + 1 RETURNING key, value) INSERT INTO pg_counter_log (key, value) SELECT key, value FROM c RETURNING value") ;; 225
  (data (i32.const 2560) "CREATE TABLE IF NOT EXISTS pg_counter (key text PRIMARY KEY, value bigint NOT NULL); CREATE TABLE IF NOT EXISTS pg_counter_log (key text NOT NULL, value bigint NOT NULL)") ;; 169

  ;; 1024.. return areas, 1200..1272 the one query parameter (a pg-value), 3000..3032 number
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

  ;; upsert(): run the counting statement; the result lands at 1040 (tag u8; ok: rows ptr
  ;; @1044, len @1048; error: query-error tag @1044, message ptr @1048, len @1052)
  (func $upsert
    (call $pg.query (i32.const 2048) (i32.const 225) (i32.const 1200) (i32.const 1) (i32.const 1040)))

  (func (export "wasi:http/incoming-handler@0.2.0#handle")
    (param $req i32) (param $out i32)
    (local $kptr i32) (local $klen i32) (local $i i32)
    (local $rows i32) (local $entry i32) (local $n i64) (local $pos i32)

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
    (if (i32.eqz (local.get $klen))
      (then (local.set $kptr (i32.const 64)) (local.set $klen (i32.const 4))))

    ;; the parameter: pg-value::text(key), case 88, string at +8
    (i32.store8 (i32.const 1200) (i32.const 88))
    (i32.store (i32.const 1208) (local.get $kptr))
    (i32.store (i32.const 1212) (local.get $klen))

    (call $upsert)
    (if (i32.load8_u (i32.const 1040))
      (then
        ;; perhaps the tables are missing: create them, then try once more
        (call $pg.batch (i32.const 2560) (i32.const 169) (i32.const 1056))
        (call $upsert)))
    (if (i32.load8_u (i32.const 1040))
      (then
        (call $respond (local.get $out) (i32.const 500) (i32.const 80) (i32.const 14)
          (i32.load (i32.const 1048)) (i32.load (i32.const 1052)))
        (global.set $heap (i32.const 4096))
        (return)))

    ;; rows: one row whose first entry is {column-name: string @0, value: pg-value @8};
    ;; the pg-value's tag is at +8 and an int8's payload at +16
    (local.set $rows (i32.load (i32.const 1044)))
    (if (i32.eqz (i32.load (i32.const 1048)))
      (then
        (call $respond (local.get $out) (i32.const 500) (i32.const 96) (i32.const 17) (i32.const 0) (i32.const 0))
        (global.set $heap (i32.const 4096))
        (return)))
    (local.set $entry (i32.load (local.get $rows)))
    (if (i32.or (i32.eqz (i32.load (i32.add (local.get $rows) (i32.const 4))))
                (i32.and (i32.ne (i32.load8_u (i32.add (local.get $entry) (i32.const 8))) (i32.const 2))
                         (i32.ne (i32.load8_u (i32.add (local.get $entry) (i32.const 8))) (i32.const 1))))
      (then
        (call $respond (local.get $out) (i32.const 500) (i32.const 96) (i32.const 17) (i32.const 0) (i32.const 0))
        (global.set $heap (i32.const 4096))
        (return)))
    (local.set $n (i64.load (i32.add (local.get $entry) (i32.const 16))))

    ;; decimal text of n, written backwards ending at 3032
    (local.set $pos (i32.const 3032))
    (loop $digits
      (local.set $pos (i32.sub (local.get $pos) (i32.const 1)))
      (i64.store8 (local.get $pos)
        (i64.add (i64.rem_u (local.get $n) (i64.const 10)) (i64.const 48)))
      (local.set $n (i64.div_u (local.get $n) (i64.const 10)))
      (br_if $digits (i64.ne (local.get $n) (i64.const 0))))
    (call $respond (local.get $out) (i32.const 200)
      (local.get $pos) (i32.sub (i32.const 3032) (local.get $pos)) (i32.const 0) (i32.const 0))
    (global.set $heap (i32.const 4096)))
)
