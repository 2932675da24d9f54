// Command plainhttp is the baseline of bench/http.sh: a plain net/http handler writing the
// same response as the wat-hello fixture, so the benchmark shows what the component layer costs.
package main

import (
	"flag"
	"log"
	"net/http"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8090", "listen address")
	body := flag.String("body", "hello from a WAT component, path=", "body prefix (the request path and a newline follow)")
	flag.Parse()
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("content-type", "text/plain")
		_, _ = w.Write([]byte(*body + r.URL.RequestURI() + "\n"))
	})
	log.Fatal(http.ListenAndServe(*addr, nil))
}
