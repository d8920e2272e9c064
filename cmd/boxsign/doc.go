// Command boxsign makes and checks signing keys, bundle signatures and
// key-rotation statements for ChatSecure Box updates. All the work is in
// updates/sign (Run), so the command line is tested there.
//
// It imports updates/sign only.
package main
