package invites

import (
	"errors"
	"fmt"
)

// ErrBadLocalpart is returned for a username the box will not register.
var ErrBadLocalpart = errors.New("invites: username must be 1 to 64 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit")

// ValidLocalpart accepts a conservative subset of XMPP localparts: lower-case
// ASCII letters, digits, '.', '_' and '-', starting with a letter or digit.
// Conservative because the same name is a console login and a JID, and
// every client must show it the same way (no confusable Unicode).
func ValidLocalpart(s string) error {
	if len(s) == 0 || len(s) > 64 {
		return fmt.Errorf("%w (got %d characters)", ErrBadLocalpart, len(s))
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case (c == '.' || c == '_' || c == '-') && i > 0:
		default:
			return ErrBadLocalpart
		}
	}
	return nil
}
