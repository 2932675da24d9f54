// A tiny WASI preview1 program used as a core-module component in host tests.
package main

import "fmt"

func main() { fmt.Println("hello from wasip1") }
