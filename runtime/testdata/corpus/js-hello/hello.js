// A fetch-event handler for componentize-js (StarlingMonkey maps it onto
// wasi:http/incoming-handler). `served` is module state: on a fresh instance per request, as
// wasmCloud gives, every response says "request 1". A host that reuses instances shows
// "request 2" on the second request — if the engine lets the handler run twice at all
// (StarlingMonkey refuses: "FetchEvent#respondWith can't be called twice").
let served = 0;

addEventListener("fetch", (event) => {
  served += 1;
  const path = new URL(event.request.url).pathname;
  event.respondWith(
    new Response(`hello from JS (componentize-js), path=${path}, request ${served}\n`, {
      headers: { "content-type": "text/plain" },
    }),
  );
});
