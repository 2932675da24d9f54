// An HTTP component. componentize-js runs this script inside its JavaScript engine and turns
// the "fetch" event into the wasi:http/incoming-handler export that wasmCloud's http-server
// provider calls for every request.

addEventListener("fetch", (event: FetchEvent) => {
  event.respondWith(handle(event.request));
});

function handle(request: Request): Response {
  const path = new URL(request.url).pathname;
  return new Response(`Hello from TypeScript! You asked for ${path}\n`, {
    headers: { "content-type": "text/plain" },
  });
}
