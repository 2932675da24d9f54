// An HTTP counter. Every request increments the counter named by its path (/hello counts
// "hello", / counts "default") in the key-value bucket "default" and answers the new value.
// The host's wasi:keyvalue provider decides where the counters live (NATS, Redis, memory).

import { open } from "wasi:keyvalue/store@0.2.0-draft";
import { increment } from "wasi:keyvalue/atomics@0.2.0-draft";

addEventListener("fetch", (event: FetchEvent) => {
  event.respondWith(handle(event.request));
});

function handle(request: Request): Response {
  const key = new URL(request.url).pathname.replace(/^\/+|\/+$/g, "") || "default";
  try {
    const bucket = open("default");
    const count = increment(bucket, key, 1n);
    return new Response(`${count}\n`, { headers: { "content-type": "text/plain" } });
  } catch (err) {
    return new Response(`counter unavailable: ${describe(err)}\n`, { status: 500 });
  }
}

// componentize-js raises a wasi:keyvalue error variant as an exception whose payload is the variant.
function describe(err: unknown): string {
  const payload = (err as { payload?: { tag: string; val?: string } }).payload;
  if (payload) {
    return payload.val ? `${payload.tag}: ${payload.val}` : payload.tag;
  }
  return String(err);
}
