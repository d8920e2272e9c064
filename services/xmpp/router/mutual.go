package router

import (
	"context"
	"errors"
	"fmt"

	"github.com/chatsecure/box/services/xmpp/roster"
)

// Befriend makes the local users a and b (localparts) contacts of each
// other with subscription both, as if each had subscribed and the other
// approved (an invite is that approval given in advance). Changed items
// are pushed to interested sessions (RFC 6121 §2.1.6) and the owner of a
// changed item then sees the contact's current presence; a repeat call
// changes and sends nothing.
func (r *Router) Befriend(ctx context.Context, a, b string) error {
	if a == "" || b == "" || a == b {
		return errors.New("router: befriend needs two different users")
	}
	r.subMu.Lock()
	defer r.subMu.Unlock()
	var see [][2]string // who now sees whose presence: {from, to}
	for _, p := range [][2]string{{a, b}, {b, a}} {
		owner, contact := p[0], p[1]
		it, err := r.cfg.Roster.Item(ctx, owner, contact+"@"+r.cfg.Domain)
		if err != nil {
			return fmt.Errorf("router: befriend %s and %s: %w", a, b, err)
		}
		if it.Sub == roster.Both && it.InRoster && !it.Ask && !it.PendingIn {
			continue
		}
		it.Sub, it.InRoster, it.Ask, it.PendingIn = roster.Both, true, false, false
		ver, err := r.cfg.Roster.Put(ctx, owner, it, true)
		if err != nil {
			return fmt.Errorf("router: befriend %s and %s: %w", a, b, err)
		}
		r.push(owner, it, false, ver)
		see = append(see, [2]string{contact, owner})
	}
	for _, p := range see {
		r.sendPresenceOf(p[0], p[1])
	}
	return nil
}
