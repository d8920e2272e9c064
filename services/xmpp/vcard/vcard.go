package vcard

import (
	"context"
	"database/sql"
	"errors"

	"github.com/chatsecure/box/services/xmpp/elem"
	"github.com/chatsecure/box/services/xmpp/offline"
	"github.com/chatsecure/box/services/xmpp/router"
	"mellium.im/xmpp/jid"
)

// NS is vcard-temp.
const NS = "vcard-temp"

// Handler returns the IQ handler over the xmpp_vcard table.
func Handler(db *sql.DB) router.IQHandler {
	return func(ctx context.Context, c *router.Conn, iq *elem.Element) *elem.Element {
		owner := c.User()
		if to := iq.Get("to"); to != "" {
			j, err := jid.Parse(to)
			if err != nil || j.Localpart() == "" {
				// vCard of the server itself: none.
				if iq.Type() == "get" {
					return elem.Result(iq).Add(elem.New(NS, "vCard"))
				}
				return elem.ErrorReply(iq, elem.Auth, "forbidden")
			}
			owner = j.Localpart()
		}
		switch iq.Type() {
		case "get":
			var raw string
			err := db.QueryRowContext(ctx, `SELECT xml FROM xmpp_vcard WHERE owner = ?`, owner).Scan(&raw)
			if errors.Is(err, sql.ErrNoRows) {
				return elem.Result(iq).Add(elem.New(NS, "vCard"))
			}
			if err != nil {
				return elem.ErrorReply(iq, elem.Wait, "internal-server-error")
			}
			v, err := offline.Parse(raw)
			if err != nil {
				return elem.ErrorReply(iq, elem.Wait, "internal-server-error")
			}
			return elem.Result(iq).Add(v)
		case "set":
			if owner != c.User() {
				return elem.ErrorReply(iq, elem.Auth, "forbidden")
			}
			v := iq.FirstElement()
			if _, err := db.ExecContext(ctx, `INSERT INTO xmpp_vcard (owner, xml) VALUES (?, ?)
				ON CONFLICT(owner) DO UPDATE SET xml = excluded.xml`, owner, string(v.Append(nil, elem.NSClient))); err != nil {
				return elem.ErrorReply(iq, elem.Wait, "internal-server-error")
			}
			return elem.Result(iq)
		}
		return elem.ErrorReply(iq, elem.Modify, "bad-request")
	}
}
