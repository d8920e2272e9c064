package main

import (
	"os"

	"github.com/chatsecure/box/updates/sign"
)

func main() {
	os.Exit(sign.Run(os.Args[1:], os.Stdout, os.Stderr))
}
