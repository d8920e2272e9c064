package router

import (
	"context"

	"github.com/chatsecure/box/services/xmpp/elem"
	"github.com/chatsecure/box/services/xmpp/roster"
	"mellium.im/xmpp/jid"
)

// rosterIQ answers roster get and set (RFC 6121 §2.1.3, §2.1.5, §2.5).
func (r *Router) rosterIQ(ctx context.Context, c *Conn, iq *elem.Element) *elem.Element {
	if to := iq.Get("to"); to != "" && to != c.bare {
		return elem.ErrorReply(iq, elem.Auth, "forbidden")
	}
	q := iq.FirstElement()
	switch iq.Type() {
	case "get":
		c.mu.Lock()
		c.interested = true
		c.mu.Unlock()
		ver, err := r.cfg.Roster.Version(ctx, c.user)
		if err != nil {
			return elem.ErrorReply(iq, elem.Wait, "internal-server-error")
		}
		if q.Get("ver") != "" && q.Get("ver") == ver {
			// Unchanged since the client's copy: empty result (§2.6.3).
			return elem.Result(iq)
		}
		items, err := r.cfg.Roster.Items(ctx, c.user)
		if err != nil {
			return elem.ErrorReply(iq, elem.Wait, "internal-server-error")
		}
		return elem.Result(iq).Add(roster.Query(items, ver))
	case "set":
		items := q.Elements()
		if len(items) != 1 || items[0].Name.Local != "item" {
			return elem.ErrorReply(iq, elem.Modify, "bad-request")
		}
		it := items[0]
		cj, err := jid.Parse(it.Get("jid"))
		if err != nil || cj.Resourcepart() != "" {
			return elem.ErrorReply(iq, elem.Modify, "bad-request")
		}
		if cj.Equal(c.jid.Bare()) {
			return elem.ErrorReply(iq, elem.Cancel, "not-allowed")
		}
		if it.Get("subscription") == "remove" {
			r.removeItem(ctx, c, cj)
			return elem.Result(iq)
		}
		var groups []string
		seen := map[string]bool{}
		for _, g := range it.Elements() {
			if g.Name.Local != "group" {
				continue
			}
			name := g.Text()
			if name == "" {
				return elem.ErrorReply(iq, elem.Modify, "not-acceptable")
			}
			if seen[name] {
				return elem.ErrorReply(iq, elem.Modify, "bad-request")
			}
			seen[name] = true
			groups = append(groups, name)
		}
		r.subMu.Lock()
		defer r.subMu.Unlock()
		cur, err := r.cfg.Roster.Item(ctx, c.user, cj.String())
		if err != nil {
			return elem.ErrorReply(iq, elem.Wait, "internal-server-error")
		}
		cur.Name, cur.Groups, cur.InRoster = it.Get("name"), groups, true
		if !r.save(ctx, c.user, cur, true) {
			return elem.ErrorReply(iq, elem.Wait, "internal-server-error")
		}
		return elem.Result(iq)
	}
	return elem.ErrorReply(iq, elem.Modify, "bad-request")
}

// removeItem ends both subscription directions and deletes the item
// (§2.5.2).
func (r *Router) removeItem(ctx context.Context, c *Conn, cj jid.JID) {
	r.subMu.Lock()
	cur, err := r.cfg.Roster.Item(ctx, c.user, cj.String())
	r.subMu.Unlock()
	if err != nil {
		return
	}
	bare := cj.String()
	if cur.Sub == roster.To || cur.Sub == roster.Both || cur.Ask {
		c.subscription(ctx, "unsubscribe", elem.New(elem.NSClient, "presence", "from", c.bare, "to", bare, "type", "unsubscribe"), cj)
	}
	if cur.Sub == roster.From || cur.Sub == roster.Both || cur.PendingIn {
		c.subscription(ctx, "unsubscribed", elem.New(elem.NSClient, "presence", "from", c.bare, "to", bare, "type", "unsubscribed"), cj)
	}
	r.subMu.Lock()
	defer r.subMu.Unlock()
	ver, err := r.cfg.Roster.Remove(ctx, c.user, bare)
	if err != nil {
		r.cfg.Log.Warn("xmpp: roster remove", "err", err)
		return
	}
	r.push(c.user, roster.Item{JID: bare}, true, ver)
}
