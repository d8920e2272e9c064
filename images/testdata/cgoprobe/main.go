// Command cgoprobe is a minimal cgo program: the tests build it the way boxd
// is built (cgo, linked statically) to prove the toolchain yields a binary
// without a dynamic loader, for amd64 and arm64.
package main

/*
static int answer(void) { return 42; }
*/
import "C"

import "fmt"

func main() { fmt.Println(C.answer()) }
