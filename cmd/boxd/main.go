// Command boxd is the box's one long-running program: it unseals the key,
// opens the store, runs every service and owns the state machine.
package main

import (
	"os"

	"github.com/chatsecure/box/appliance"
)

func main() {
	os.Exit(appliance.Main(os.Args[1:], os.Stderr))
}
