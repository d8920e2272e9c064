// Package trust holds the box's update signing keys: ed25519 key files, key
// ids, k-of-n key sets, and signed key-rotation statements by which the set
// trusted now (at its own threshold) hands trust to a new set, so that a
// leaked or lost key is replaced without re-flashing boxes.
//
// The root set the image trusts is embedded from root/ (public keys only;
// the checked-in set is the development set whose private keys live in
// testdata/ and must be replaced for release images).
//
// It imports only the standard library.
package trust
