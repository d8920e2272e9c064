package router

import (
	"context"
	"strconv"
	"strings"

	"github.com/chatsecure/box/services/xmpp/elem"
	"github.com/chatsecure/box/services/xmpp/roster"
	"mellium.im/xmpp/jid"
)

func (c *Conn) routePresence(ctx context.Context, p *elem.Element, to jid.JID) {
	r := c.r
	typ := p.Type()
	switch typ {
	case "", "unavailable":
		if to.Equal(jid.JID{}) {
			c.broadcast(ctx, p)
			return
		}
		// Directed presence.
		if !r.local(to) {
			c.Send(elem.ErrorReply(p, elem.Cancel, "remote-server-not-found"))
			return
		}
		if to.Localpart() == "" || r.cfg.Blocking.Blocked(ctx, c.user, to) || r.cfg.Blocking.Blocked(ctx, to.Localpart(), c.jid) {
			return
		}
		r.deliverPresence(to, p)
	case "subscribe", "subscribed", "unsubscribe", "unsubscribed":
		if to.Localpart() == "" {
			return
		}
		if !r.local(to) {
			c.Send(elem.ErrorReply(p, elem.Cancel, "remote-server-not-found"))
			return
		}
		// Subscription stanzas are from and to bare JIDs (§3.1.2).
		to = to.Bare()
		p.SetAttr("to", to.String())
		p.SetAttr("from", c.bare)
		c.subscription(ctx, typ, p, to)
	case "probe":
		// Probes are the server's business (§4.3); clients need not.
	case "error":
		if r.local(to) && to.Resourcepart() != "" {
			if o := r.conn(to.Localpart(), to.Resourcepart()); o != nil {
				o.deliver(p)
			}
		}
	default:
		c.Send(elem.ErrorReply(p, elem.Modify, "bad-request"))
	}
}

// deliverPresence sends p to a full JID's session or a bare JID's
// available sessions.
func (r *Router) deliverPresence(to jid.JID, p *elem.Element) {
	if res := to.Resourcepart(); res != "" {
		if o := r.conn(to.Localpart(), res); o != nil {
			o.deliver(p)
		}
		return
	}
	for _, o := range r.conns(to.Localpart()) {
		if a, _ := o.state(); a {
			o.deliver(p)
		}
	}
}

func parsePriority(p *elem.Element) int {
	pr := p.Child("", "priority")
	if pr == nil {
		return 0
	}
	n, err := strconv.Atoi(strings.TrimSpace(pr.Text()))
	if err != nil || n < -128 || n > 127 {
		return 0
	}
	return n
}

// broadcast handles a presence with no "to" (§4.2, §4.4, §4.5).
func (c *Conn) broadcast(ctx context.Context, p *elem.Element) {
	r := c.r
	unavailable := p.Type() == "unavailable"
	c.mu.Lock()
	initial := !c.available && !unavailable
	c.available = !unavailable
	c.priority = parsePriority(p)
	if unavailable {
		c.presence = nil
	} else {
		c.presence = p
	}
	c.mu.Unlock()

	items, err := r.cfg.Roster.Items(ctx, c.user)
	if err != nil {
		r.cfg.Log.Warn("xmpp: roster for broadcast", "user", c.user, "err", err)
	}
	c.sendToSubscribers(ctx, items, p)
	// The user's own available resources, this one included.
	for _, o := range r.conns(c.user) {
		if a, _ := o.state(); a || o == c {
			o.deliver(p)
		}
	}
	if !initial {
		return
	}
	// Probes, answered locally: the presence of every contact the user is
	// subscribed to.
	for _, it := range items {
		if it.Sub != roster.To && it.Sub != roster.Both {
			continue
		}
		cj, err := jid.Parse(it.JID)
		if err != nil || !r.local(cj) || r.cfg.Blocking.Blocked(ctx, c.user, cj) {
			continue
		}
		for _, o := range r.conns(cj.Localpart()) {
			o.mu.Lock()
			pres := o.presence
			avail := o.available && !o.gone
			o.mu.Unlock()
			if avail && pres != nil {
				c.deliver(retarget(pres, c.full))
			}
		}
	}
	// Subscription requests that arrived while offline (§3.1.3).
	for _, it := range items {
		if it.PendingIn {
			c.deliver(elem.New(elem.NSClient, "presence", "from", it.JID, "to", c.bare, "type", "subscribe"))
		}
	}
	// Offline messages (XEP-0160 §4): on initial presence with a
	// non-negative priority.
	if c.priority >= 0 {
		msgs, err := r.cfg.Offline.Take(ctx, c.user)
		if err != nil {
			r.cfg.Log.Warn("xmpp: offline take", "user", c.user, "err", err)
		}
		for _, m := range msgs {
			c.deliver(m)
		}
	}
}

// retarget copies a presence with a new "to".
func retarget(p *elem.Element, to string) *elem.Element {
	cp := *p
	cp.Attr = append(cp.Attr[:0:0], p.Attr...)
	cp.SetAttr("to", to)
	return &cp
}

// sendToSubscribers sends p to the available resources of every contact
// with a from or both subscription who is not blocked.
func (c *Conn) sendToSubscribers(ctx context.Context, items []roster.Item, p *elem.Element) {
	r := c.r
	for _, it := range items {
		if it.Sub != roster.From && it.Sub != roster.Both {
			continue
		}
		cj, err := jid.Parse(it.JID)
		if err != nil || !r.local(cj) || r.cfg.Blocking.Blocked(ctx, c.user, cj) {
			continue
		}
		for _, o := range r.conns(cj.Localpart()) {
			if a, _ := o.state(); a {
				o.deliver(retarget(p, o.full))
			}
		}
	}
}

func (c *Conn) broadcastUnavailable(ctx context.Context) {
	p := elem.New(elem.NSClient, "presence", "from", c.full, "type", "unavailable")
	items, err := c.r.cfg.Roster.Items(ctx, c.user)
	if err != nil {
		c.r.cfg.Log.Warn("xmpp: roster for unavailable", "user", c.user, "err", err)
	}
	c.sendToSubscribers(ctx, items, p)
	for _, o := range c.r.conns(c.user) {
		if a, _ := o.state(); a && o != c {
			o.deliver(p)
		}
	}
}
