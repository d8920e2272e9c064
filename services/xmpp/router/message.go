package router

import (
	"context"
	"errors"

	"github.com/chatsecure/box/services/xmpp/blocking"
	"github.com/chatsecure/box/services/xmpp/carbons"
	"github.com/chatsecure/box/services/xmpp/elem"
	"github.com/chatsecure/box/services/xmpp/offline"
	"mellium.im/xmpp/jid"
)

// blockedReply is the error a user gets for writing to someone they block
// (XEP-0191 §3.5).
func blockedReply(st *elem.Element) *elem.Element {
	e := elem.ErrorReply(st, elem.Cancel, "not-acceptable")
	e.Child(elem.NSClient, "error").Add(elem.New(blocking.NSErrors, "blocked"))
	return e
}

func (c *Conn) routeMessage(ctx context.Context, msg *elem.Element, to jid.JID) {
	r := c.r
	typ := msg.Type()
	if typ != "error" {
		r.msgs.add()
	}
	if to.Equal(jid.JID{}) {
		// A message to one's own account goes to one's bare JID.
		to = c.jid.Bare()
		msg.SetAttr("to", c.bare)
	}
	if !r.local(to) {
		if typ != "error" {
			c.Send(elem.ErrorReply(msg, elem.Cancel, "remote-server-not-found"))
		}
		return
	}
	if to.Localpart() == "" {
		// Messages to the server itself: nothing here reads them.
		if typ != "error" && typ != "groupchat" && typ != "headline" {
			c.Send(elem.ErrorReply(msg, elem.Cancel, "service-unavailable"))
		}
		return
	}
	if r.cfg.Blocking.Blocked(ctx, c.user, to) {
		if typ != "error" {
			c.Send(blockedReply(msg))
		}
		return
	}
	// Sent carbons go to the sender's other resources.
	if carbons.Eligible(msg) {
		for _, o := range r.conns(c.user) {
			if o != c && o.carbonsOn() {
				o.deliver(carbons.Wrap("sent", msg, c.bare, o.full))
			}
		}
	}
	r.deliverMessage(ctx, msg, c.jid, to, c)
}

func (c *Conn) carbonsOn() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.carbons && !c.gone
}

func (c *Conn) state() (available bool, priority int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.available && !c.gone, c.priority
}

// deliverMessage applies RFC 6121 §8.5 for a message to a local user.
// sender is the sending session (for bounces), or nil.
func (r *Router) deliverMessage(ctx context.Context, msg *elem.Element, from, to jid.JID, sender *Conn) {
	typ := msg.Type()
	bounce := func(cond string) {
		if typ != "error" && sender != nil {
			sender.Send(elem.ErrorReply(msg, elem.Cancel, cond))
		}
	}
	user := to.Localpart()
	if r.cfg.Blocking.Blocked(ctx, user, from) {
		bounce("service-unavailable")
		return
	}
	conns := r.conns(user)
	var target *Conn
	if res := to.Resourcepart(); res != "" {
		for _, o := range conns {
			if o.res == res {
				target = o
			}
		}
		if target == nil {
			switch typ {
			case "error":
				return
			case "groupchat":
				bounce("service-unavailable")
				return
			}
			// chat, normal, headline: as if to the bare JID (§8.5.3.2.1).
		}
	}
	var targets []*Conn
	if target != nil {
		targets = []*Conn{target}
	} else {
		switch typ {
		case "error":
			return
		case "groupchat":
			bounce("service-unavailable")
			return
		case "headline":
			for _, o := range conns {
				if a, p := o.state(); a && p >= 0 {
					targets = append(targets, o)
				}
			}
			if len(targets) == 0 {
				return
			}
		default:
			best := -1
			for _, o := range conns {
				a, p := o.state()
				if !a || p < 0 {
					continue
				}
				switch {
				case p > best:
					best, targets = p, []*Conn{o}
				case p == best:
					targets = append(targets, o)
				}
			}
			if len(targets) == 0 {
				if !r.exists(ctx, user) {
					bounce("service-unavailable")
					return
				}
				if err := r.cfg.Offline.Put(ctx, user, msg); err != nil {
					if !errors.Is(err, offline.ErrQuota) {
						r.cfg.Log.Warn("xmpp: offline store", "user", user, "err", err)
					}
					bounce("service-unavailable")
				}
				return
			}
		}
	}
	for _, t := range targets {
		t.deliver(msg)
	}
	// Received carbons go to the recipient's other carbon-enabled
	// resources.
	if carbons.Eligible(msg) {
		var bare string
		for _, o := range conns {
			if o.carbonsOn() && !contains(targets, o) {
				if bare == "" {
					bare = o.bare
				}
				o.deliver(carbons.Wrap("received", msg, bare, o.full))
			}
		}
	}
}

func contains(cs []*Conn, c *Conn) bool {
	for _, x := range cs {
		if x == c {
			return true
		}
	}
	return false
}
