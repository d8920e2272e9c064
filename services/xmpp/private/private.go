package private

import (
	"context"
	"database/sql"
	"errors"

	"github.com/chatsecure/box/services/xmpp/elem"
	"github.com/chatsecure/box/services/xmpp/offline"
	"github.com/chatsecure/box/services/xmpp/router"
)

// NS is XEP-0049's namespace.
const NS = "jabber:iq:private"

// Handler returns the IQ handler over the xmpp_private table.
func Handler(db *sql.DB) router.IQHandler {
	return func(ctx context.Context, c *router.Conn, iq *elem.Element) *elem.Element {
		if to := iq.Get("to"); to != "" && to != c.JID().Bare().String() {
			return elem.ErrorReply(iq, elem.Cancel, "forbidden")
		}
		q := iq.FirstElement()
		items := q.Elements()
		if len(items) == 0 {
			return elem.ErrorReply(iq, elem.Modify, "bad-request")
		}
		for _, it := range items {
			switch it.Name.Space {
			case "", elem.NSClient, "jabber:server", NS:
				return elem.ErrorReply(iq, elem.Modify, "not-acceptable")
			}
		}
		switch iq.Type() {
		case "get":
			if len(items) != 1 {
				return elem.ErrorReply(iq, elem.Modify, "bad-request")
			}
			want := items[0]
			var raw string
			err := db.QueryRowContext(ctx, `SELECT xml FROM xmpp_private WHERE owner = ? AND ns = ?`,
				c.User(), want.Name.Space).Scan(&raw)
			out := elem.New(NS, "query")
			switch {
			case errors.Is(err, sql.ErrNoRows):
				out.Add(&elem.Element{Name: want.Name})
			case err != nil:
				return elem.ErrorReply(iq, elem.Wait, "internal-server-error")
			default:
				v, err := offline.Parse(raw)
				if err != nil {
					return elem.ErrorReply(iq, elem.Wait, "internal-server-error")
				}
				out.Add(v)
			}
			return elem.Result(iq).Add(out)
		case "set":
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				return elem.ErrorReply(iq, elem.Wait, "internal-server-error")
			}
			defer tx.Rollback()
			for _, it := range items {
				if _, err := tx.ExecContext(ctx, `INSERT INTO xmpp_private (owner, ns, xml) VALUES (?, ?, ?)
					ON CONFLICT(owner, ns) DO UPDATE SET xml = excluded.xml`,
					c.User(), it.Name.Space, string(it.Append(nil, elem.NSClient))); err != nil {
					return elem.ErrorReply(iq, elem.Wait, "internal-server-error")
				}
			}
			if err := tx.Commit(); err != nil {
				return elem.ErrorReply(iq, elem.Wait, "internal-server-error")
			}
			return elem.Result(iq)
		}
		return elem.ErrorReply(iq, elem.Modify, "bad-request")
	}
}
