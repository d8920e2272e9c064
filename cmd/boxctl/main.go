// Command boxctl administers a running boxd through its admin socket:
// status, unlock, integrity check, recovery code, accounts, factory reset.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
