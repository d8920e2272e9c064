// Command boxd is the box's one long-running program: it unseals the key,
// opens the store, runs every service and owns the state machine.
package main
