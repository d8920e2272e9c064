package xmpp

import (
	"context"
	"errors"
)

// Invites is the box's invite store as in-band registration uses it. The
// server never creates an account on its own: only Redeem does, and only
// for a token Check accepted.
type Invites interface {
	// Check reports whether token can create an account now; the error
	// wraps ErrInviteInvalid when it cannot.
	Check(ctx context.Context, token string) error
	// Redeem creates the account localpart with password through token
	// and returns the inviter's localpart ("" for a box-wide invite).
	// Errors wrap ErrInviteInvalid (token no longer good),
	// accounts.ErrExists (name taken) or ErrNotAcceptable (the name or
	// password was refused; the text after it says why, for the user).
	Redeem(ctx context.Context, token, localpart, password string) (inviter string, err error)
}

// Errors an Invites implementation wraps.
var (
	ErrInviteInvalid = errors.New("xmpp: invite not valid")
	ErrNotAcceptable = errors.New("xmpp: registration not acceptable")
)

// invitesBox lets SetInvites store an interface in an atomic.Pointer.
type invitesBox struct{ Invites }

// SetInvites turns on in-band registration through invites (XEP-0077
// with XEP-0445 tokens); nil turns it off. Safe to call while running:
// the appliance makes the invite store after the XMPP service.
func (s *Server) SetInvites(inv Invites) {
	if inv == nil {
		s.invites.Store(nil)
		return
	}
	s.invites.Store(&invitesBox{inv})
}

func (s *Server) getInvites() Invites {
	if b := s.invites.Load(); b != nil {
		return b.Invites
	}
	return nil
}
