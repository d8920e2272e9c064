// Package sourcetest has in-memory twins for package source's
// system-facing parts: a Mounter over plain directories and a fake sysfs
// tree of USB sticks.
//
// It imports only the standard library.
package sourcetest
