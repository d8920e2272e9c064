// Command boxsign makes and checks signing keys, bundle signatures and
// key-rotation statements for ChatSecure Box updates. See updates/sign.
package main

import (
	"os"

	"github.com/chatsecure/box/updates/sign"
)

func main() {
	os.Exit(sign.Run(os.Args[1:], os.Stdout, os.Stderr))
}
