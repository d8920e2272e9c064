package main

import (
	"os"

	"github.com/chatsecure/box/appliance"
)

func main() {
	os.Exit(appliance.Main(os.Args[1:], os.Stderr))
}
