//go:build !unix

package tis

import "os"

// lockDevice is a no-op where flock does not exist.
func lockDevice(path string) (*os.File, error) { return nil, nil }
