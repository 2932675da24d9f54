// Command httpapp prints the manifest bench/redeploy.sh deploys: component "guest" from a local
// file on 20 instances, served by the built-in http-server on an address. The YAML comes from
// internal/testmanifest, as the tests' manifests do.
//
//	go run ./bench/httpapp -name NAME -version VERSION -wasm WASM -addr ADDRESS
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/wasmlattice/wash/internal/testmanifest"
)

func main() {
	name := flag.String("name", "", "application name (also names the address config)")
	version := flag.String("version", "v1", "application version annotation")
	wasm := flag.String("wasm", "", "path of the component")
	addr := flag.String("addr", "", "address the http-server listens on, HOST:PORT")
	flag.Parse()
	if *name == "" || *wasm == "" || *addr == "" || flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "httpapp: -name, -wasm and -addr are required")
		flag.Usage()
		os.Exit(2)
	}
	fmt.Print(testmanifest.App{Name: *name, Version: *version, Components: []testmanifest.Component{
		testmanifest.Wasm("guest", *wasm, 20),
		testmanifest.HTTPServer("guest", *name+"-address", *addr),
	}}.YAML())
}
