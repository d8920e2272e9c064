// Package appliance wires the box: one System struct owns the configuration,
// the key sealer, the store, every service, the status LED and the state
// machine (boot → unclaimed | locked | fault → running ⇄ updating, any →
// factory-reset → unclaimed), and serves the local admin API that boxctl talks
// to over a unix socket in the data directory.
//
// Only cmd/boxd imports appliance (cmd/boxctl imports only appliance/adminapi,
// the wire protocol). Nothing under services/ may import it.
package appliance
