package xmpp

import (
	"context"
	"fmt"

	"github.com/chatsecure/box/services/xmpp/accounts"
)

// AddMutual makes the accounts a and b ("alice" or "alice@domain")
// contacts of each other with subscription both: the inviter and the
// invitee of an invite see each other without a subscription round trip.
// Online sessions get roster pushes and each other's presence.
func (s *Server) AddMutual(ctx context.Context, a, b string) error {
	ua, err := s.acc.Normalize(a)
	if err != nil {
		return fmt.Errorf("xmpp: add mutual: %w", err)
	}
	ub, err := s.acc.Normalize(b)
	if err != nil {
		return fmt.Errorf("xmpp: add mutual: %w", err)
	}
	for _, u := range []string{ua, ub} {
		ok, err := s.acc.Exists(ctx, u)
		if err != nil {
			return fmt.Errorf("xmpp: add mutual: %w", err)
		}
		if !ok {
			return fmt.Errorf("xmpp: add mutual: %w: %s", accounts.ErrNotFound, u)
		}
	}
	if err := s.router.Befriend(ctx, ua, ub); err != nil {
		return fmt.Errorf("xmpp: add mutual: %w", err)
	}
	return nil
}
