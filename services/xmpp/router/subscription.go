package router

import (
	"context"

	"github.com/chatsecure/box/services/xmpp/elem"
	"github.com/chatsecure/box/services/xmpp/roster"
	"mellium.im/xmpp/jid"
)

// subscription runs one subscription stanza from c's user to the local
// contact "to" (RFC 6121 §3): the user's side, then the contact's side,
// roster pushes on both, and the presence that follows.
func (c *Conn) subscription(ctx context.Context, typ string, p *elem.Element, to jid.JID) {
	r := c.r
	contact := to.Localpart()
	if contact == c.user {
		return // subscribing to oneself is implicit
	}
	if r.cfg.Blocking.Blocked(ctx, c.user, to) {
		c.Send(blockedReply(p))
		return
	}
	r.subMu.Lock()
	defer r.subMu.Unlock()
	uItem, err := r.cfg.Roster.Item(ctx, c.user, to.String())
	if err != nil {
		r.cfg.Log.Warn("xmpp: subscription", "err", err)
		return
	}
	var changed, forward bool
	switch typ {
	case "subscribe":
		changed, forward = roster.OutSubscribe(&uItem)
	case "subscribed":
		changed, forward = roster.OutSubscribed(&uItem)
	case "unsubscribe":
		changed, forward = roster.OutUnsubscribe(&uItem)
	case "unsubscribed":
		changed, forward = roster.OutUnsubscribed(&uItem)
	}
	if !r.save(ctx, c.user, uItem, changed) || !forward {
		return
	}
	if !r.exists(ctx, contact) || r.cfg.Blocking.Blocked(ctx, contact, c.jid) {
		return
	}
	cItem, err := r.cfg.Roster.Item(ctx, contact, c.bare)
	if err != nil {
		r.cfg.Log.Warn("xmpp: subscription", "err", err)
		return
	}
	var deliver, auto bool
	switch typ {
	case "subscribe":
		changed, deliver, auto = roster.InSubscribe(&cItem)
	case "subscribed":
		changed, deliver = roster.InSubscribed(&cItem)
	case "unsubscribe":
		changed, deliver = roster.InUnsubscribe(&cItem)
	case "unsubscribed":
		changed, deliver = roster.InUnsubscribed(&cItem)
	}
	if !r.save(ctx, contact, cItem, changed) {
		return
	}
	if deliver {
		r.deliverPresence(to, p)
	}
	switch {
	case auto:
		// The contact already lets the user see its presence: answer
		// subscribed for it (§3.1.3 step 2).
		if ch, d := roster.InSubscribed(&uItem); d {
			r.save(ctx, c.user, uItem, ch)
			r.deliverPresence(c.jid.Bare(), elem.New(elem.NSClient, "presence", "from", to.String(), "to", c.bare, "type", "subscribed"))
			r.sendPresenceOf(contact, c.user)
		}
	case typ == "subscribed" && deliver:
		// The contact now sees the user's current presence (§3.1.5).
		r.sendPresenceOf(c.user, contact)
	case typ == "unsubscribe" && deliver:
		r.sendUnavailableOf(contact, c.user)
	case typ == "unsubscribed" && deliver:
		r.sendUnavailableOf(c.user, contact)
	}
}

// save stores an item and pushes it when visible; false on error.
func (r *Router) save(ctx context.Context, owner string, it roster.Item, changed bool) bool {
	ver, err := r.cfg.Roster.Put(ctx, owner, it, changed && it.InRoster)
	if err != nil {
		r.cfg.Log.Warn("xmpp: roster save", "owner", owner, "err", err)
		return false
	}
	if changed && it.InRoster {
		r.push(owner, it, false, ver)
	}
	return true
}

// push sends a roster push to every interested resource of owner (§2.1.6).
func (r *Router) push(owner string, it roster.Item, remove bool, ver string) {
	for _, o := range r.conns(owner) {
		o.mu.Lock()
		interested := o.interested && !o.gone
		o.mu.Unlock()
		if !interested {
			continue
		}
		q := elem.New(roster.NS, "query", "ver", ver).Add(roster.ItemXML(it, remove))
		o.Send(elem.New(elem.NSClient, "iq", "type", "set", "id", "push-"+randomResource()[4:12], "to", o.full).Add(q))
	}
}

// sendPresenceOf delivers the current presence of from's available
// resources to to's available resources.
func (r *Router) sendPresenceOf(from, to string) {
	for _, f := range r.conns(from) {
		f.mu.Lock()
		p := f.presence
		avail := f.available && !f.gone
		f.mu.Unlock()
		if !avail || p == nil {
			continue
		}
		for _, t := range r.conns(to) {
			if a, _ := t.state(); a {
				t.deliver(retarget(p, t.full))
			}
		}
	}
}

// sendUnavailableOf tells to's resources that from's resources are gone
// for them (after a subscription ended).
func (r *Router) sendUnavailableOf(from, to string) {
	for _, f := range r.conns(from) {
		if a, _ := f.state(); !a {
			continue
		}
		for _, t := range r.conns(to) {
			if a, _ := t.state(); a {
				t.deliver(elem.New(elem.NSClient, "presence", "from", f.full, "to", t.full, "type", "unavailable"))
			}
		}
	}
}
