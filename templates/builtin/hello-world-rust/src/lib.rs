//! An HTTP component: wasmCloud's http-server provider calls `handle` for every request.

use wasi::exports::http::incoming_handler::Guest;
use wasi::http::types::{Fields, IncomingRequest, OutgoingBody, OutgoingResponse, ResponseOutparam};

struct Component;

wasi::http::proxy::export!(Component);

impl Guest for Component {
    fn handle(request: IncomingRequest, response_out: ResponseOutparam) {
        let path = request.path_with_query().unwrap_or_else(|| String::from("/"));
        let headers = Fields::new();
        let _ = headers.set(&String::from("content-type"), &[b"text/plain".to_vec()]);
        let response = OutgoingResponse::new(headers);
        let body = response.body().expect("a new response has a body");
        ResponseOutparam::set(response_out, Ok(response));

        let text = format!("Hello from Rust! You asked for {path}\n");
        let stream = body.write().expect("the body is written once");
        stream
            .blocking_write_and_flush(text.as_bytes())
            .expect("writing the response body");
        drop(stream);
        OutgoingBody::finish(body, None).expect("finishing the response body");
    }
}
