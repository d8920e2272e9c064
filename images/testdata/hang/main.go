// Command hang stands in for a boxd that hangs on start, in the e2e test's
// v4 image (test images only): it never opens the store, never becomes
// healthy, never commits the trial and never reboots. Only boxinit's
// trial deadline can bring the box back to the old system.
package main

import (
	"fmt"
	"os"
	"time"
)

func main() {
	fmt.Fprintln(os.Stderr, "hang: standing in for a boxd that hangs on start")
	for {
		// A sleeping loop, not select{}: that would be a deadlock the
		// runtime ends, and gokrazy would restart a crashing program.
		time.Sleep(time.Hour)
	}
}
