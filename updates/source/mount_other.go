//go:build !linux

package source

// NewMounter fails off Linux: there is nothing to mount with.
func NewMounter() (Mounter, error) { return nil, errNoMount }
