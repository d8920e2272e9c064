package disco

import (
	"context"
	"crypto/sha1"
	"encoding/base64"
	"sort"
	"strings"

	"github.com/chatsecure/box/services/xmpp/elem"
	"github.com/chatsecure/box/services/xmpp/router"
)

// Namespaces.
const (
	NSInfo  = "http://jabber.org/protocol/disco#info"
	NSItems = "http://jabber.org/protocol/disco#items"
	NSCaps  = "http://jabber.org/protocol/caps"
	// Node is the caps node naming this software.
	Node = "https://github.com/chatsecure/box"
)

// Identity is a disco identity.
type Identity struct{ Category, Type, Name string }

// Info is what an entity says about itself.
type Info struct {
	Identities []Identity
	Features   []string
}

// Query renders the disco#info result payload.
func (in Info) Query(node string) *elem.Element {
	q := elem.New(NSInfo, "query", "node", node)
	for _, id := range in.Identities {
		q.Add(elem.New(NSInfo, "identity", "category", id.Category, "type", id.Type, "name", id.Name))
	}
	for _, f := range in.sortedFeatures() {
		q.Add(elem.New(NSInfo, "feature", "var", f))
	}
	return q
}

func (in Info) sortedFeatures() []string {
	f := append([]string(nil), in.Features...)
	sort.Strings(f)
	return f
}

// Ver is the XEP-0115 §5.1 verification string (SHA-1, no forms).
func (in Info) Ver() string {
	ids := make([]string, len(in.Identities))
	for i, id := range in.Identities {
		ids[i] = id.Category + "/" + id.Type + "//" + id.Name
	}
	sort.Strings(ids)
	var b strings.Builder
	for _, s := range ids {
		b.WriteString(s + "<")
	}
	for _, f := range in.sortedFeatures() {
		b.WriteString(f + "<")
	}
	sum := sha1.Sum([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// Caps is the <c/> element for stream features.
func (in Info) Caps() *elem.Element {
	return elem.New(NSCaps, "c", "hash", "sha-1", "node", Node, "ver", in.Ver())
}

// Account is what a user's bare JID answers (XEP-0030 §3.1, registered
// account).
var Account = Info{
	Identities: []Identity{{Category: "account", Type: "registered"}},
	Features:   []string{NSInfo, NSItems},
}

// InfoHandler answers disco#info to the server with server and to an
// account's bare JID with Account.
func InfoHandler(server Info) router.IQHandler {
	return func(ctx context.Context, c *router.Conn, iq *elem.Element) *elem.Element {
		if iq.Type() != "get" {
			return elem.ErrorReply(iq, elem.Cancel, "feature-not-implemented")
		}
		node := iq.FirstElement().Get("node")
		to := iq.Get("to")
		if to == "" || to == c.Router().Domain() {
			if node != "" && node != Node+"#"+server.Ver() {
				return elem.ErrorReply(iq, elem.Cancel, "item-not-found")
			}
			return elem.Result(iq).Add(server.Query(node))
		}
		if node != "" {
			return elem.ErrorReply(iq, elem.Cancel, "item-not-found")
		}
		return elem.Result(iq).Add(Account.Query(""))
	}
}

// ItemsHandler answers disco#items: the box has no components yet, so
// the list is empty for the server and for accounts.
func ItemsHandler(ctx context.Context, c *router.Conn, iq *elem.Element) *elem.Element {
	if iq.Type() != "get" {
		return elem.ErrorReply(iq, elem.Cancel, "feature-not-implemented")
	}
	return elem.Result(iq).Add(elem.New(NSItems, "query", "node", iq.FirstElement().Get("node")))
}
