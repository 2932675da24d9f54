// Command guestpath prints the path of a corpus guest for the bench scripts, building the
// componentize-js one into the user cache when needed (node + npm):
//
//	go run ./bench/guestpath js-hello
package main

import (
	"fmt"
	"os"

	"github.com/wasmlattice/wash/internal/corpus"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: guestpath wat-hello|go-hello|js-hello|hello-plugin")
		os.Exit(2)
	}
	p, err := corpus.GuestPath(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "guestpath:", err)
		os.Exit(1)
	}
	fmt.Println(p)
}
