package router

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/xml"
	"errors"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/chatsecure/box/services/xmpp/accounts"
	"github.com/chatsecure/box/services/xmpp/blocking"
	"github.com/chatsecure/box/services/xmpp/csi"
	"github.com/chatsecure/box/services/xmpp/elem"
	"github.com/chatsecure/box/services/xmpp/offline"
	"github.com/chatsecure/box/services/xmpp/roster"
	"mellium.im/xmpp/jid"
)

// Sender is a bound stream as the router sees it.
type Sender interface {
	// Send writes one stanza; safe for concurrent use.
	Send(*elem.Element) error
	// Close ends the stream with a stream error condition.
	Close(condition, text string)
}

// IQHandler answers an IQ get or set addressed to the server or, when
// registered for accounts, to a user's bare JID. It returns the reply
// (result or error); nil means service-unavailable.
type IQHandler func(ctx context.Context, c *Conn, iq *elem.Element) *elem.Element

// ErrTooManySessions means the account holds its maximum of sessions.
var ErrTooManySessions = errors.New("router: too many sessions for this account")

// Config wires a Router.
type Config struct {
	Domain      string
	MaxSessions int
	Accounts    *accounts.Accounts
	Roster      *roster.Store
	Offline     *offline.Store
	Blocking    *blocking.Store
	Log         *slog.Logger
	// Now is the clock of MessagesPerMinute; time.Now when nil.
	Now func() time.Time
}

type iqKey struct {
	name    xml.Name
	account bool
}

// Router routes stanzas between the sessions of local users.
type Router struct {
	cfg  Config
	mu   sync.RWMutex
	user map[string]map[string]*Conn // localpart → resource → conn
	n    int
	iq   map[iqKey]IQHandler
	// subMu serializes subscription changes, which touch two rosters.
	subMu sync.Mutex
	msgs  rate
}

// New returns an empty Router.
func New(cfg Config) *Router {
	if cfg.MaxSessions <= 0 {
		cfg.MaxSessions = 10
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	r := &Router{cfg: cfg, user: make(map[string]map[string]*Conn), iq: make(map[iqKey]IQHandler)}
	r.msgs.now = cfg.Now
	r.HandleIQ(xml.Name{Space: roster.NS, Local: "query"}, false, r.rosterIQ)
	r.HandleIQ(xml.Name{Space: blocking.NS, Local: "blocklist"}, false, r.blocklistIQ)
	r.HandleIQ(xml.Name{Space: blocking.NS, Local: "block"}, false, r.blockIQ)
	r.HandleIQ(xml.Name{Space: blocking.NS, Local: "unblock"}, false, r.blockIQ)
	return r
}

// HandleIQ registers h for IQ payloads named name. With account false, h
// answers IQs to the server and to the sender's own bare JID; with account
// true, IQs to any local user's bare JID (the handler checks "to").
func (r *Router) HandleIQ(name xml.Name, account bool, h IQHandler) {
	r.iq[iqKey{name, account}] = h
}

// Domain is the served domain.
func (r *Router) Domain() string { return r.cfg.Domain }

// Sessions is the number of bound sessions.
func (r *Router) Sessions() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.n
}

// Conn is one bound resource.
type Conn struct {
	r    *Router
	out  Sender
	jid  jid.JID
	user string
	res  string
	bare string
	full string

	mu         sync.Mutex
	available  bool
	priority   int
	presence   *elem.Element
	interested bool
	carbons    bool
	inactive   bool
	held       csi.Queue
	gone       bool
	pong       PongFunc
	// The last "to" parsed (parseTo), touched only by Route's goroutine.
	lastTo    string
	lastToJID jid.JID
	// directed holds JIDs sent directed available presence, which get
	// unavailable when this resource goes (RFC 6121 §4.6.3).
	directed map[string]bool
}

// JID is the session's full JID.
func (c *Conn) JID() jid.JID { return c.jid }

// User is the session's localpart.
func (c *Conn) User() string { return c.user }

// Router is the router the conn is bound in.
func (c *Conn) Router() *Router { return c.r }

// SetCarbons turns carbon copies on or off for this resource.
func (c *Conn) SetCarbons(on bool) {
	c.mu.Lock()
	c.carbons = on
	c.mu.Unlock()
}

func randomResource() string {
	var b [10]byte
	rand.Read(b[:])
	return "box-" + base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:])
}

// Bind adds a session for user. An empty resource gets a server-made one;
// a resource already bound replaces the old session, which is closed with
// a conflict stream error (RFC 6120 §7.7.2.2).
func (r *Router) Bind(user, resource string, out Sender) (*Conn, error) {
	if resource == "" {
		resource = randomResource()
	}
	j, err := jid.New(user, r.cfg.Domain, resource)
	if err != nil {
		return nil, err
	}
	c := &Conn{r: r, out: out, jid: j, user: user, res: j.Resourcepart(), bare: j.Bare().String(), full: j.String()}
	r.mu.Lock()
	m := r.user[user]
	if m == nil {
		m = make(map[string]*Conn)
		r.user[user] = m
	}
	old := m[c.res]
	if old == nil && len(m) >= r.cfg.MaxSessions {
		r.mu.Unlock()
		return nil, ErrTooManySessions
	}
	m[c.res] = c
	if old == nil {
		r.n++
	}
	r.mu.Unlock()
	if old != nil {
		old.mu.Lock()
		old.gone = true
		wasAvail := old.available
		old.mu.Unlock()
		if wasAvail {
			old.broadcastUnavailable(context.Background())
		}
		old.out.Close("conflict", "Replaced by a new session with the same resource")
	}
	return c, nil
}

// Unbind removes the session (stream closed) and, if it was available,
// tells contacts and the user's other resources it is gone.
func (c *Conn) Unbind() {
	r := c.r
	r.mu.Lock()
	if m := r.user[c.user]; m != nil && m[c.res] == c {
		delete(m, c.res)
		r.n--
		if len(m) == 0 {
			delete(r.user, c.user)
		}
	}
	r.mu.Unlock()
	c.mu.Lock()
	if c.gone {
		c.mu.Unlock()
		return
	}
	c.gone = true
	avail := c.available
	c.mu.Unlock()
	if avail {
		c.broadcastUnavailable(context.Background())
	}
}

// conns returns a snapshot of user's sessions, highest priority first.
func (r *Router) conns(user string) []*Conn {
	r.mu.RLock()
	m := r.user[user]
	out := make([]*Conn, 0, len(m))
	for _, c := range m {
		out = append(out, c)
	}
	r.mu.RUnlock()
	if len(out) > 1 {
		sort.Slice(out, func(i, j int) bool { return out[i].res < out[j].res })
	}
	return out
}

// conn returns the session of one full JID, or nil.
func (r *Router) conn(user, res string) *Conn {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.user[user][res]
}

// Kick closes all of user's sessions (account deleted or password
// changed).
func (r *Router) Kick(user, condition string) {
	for _, c := range r.conns(user) {
		c.out.Close(condition, "")
	}
}

// CloseAll ends every session (shutdown).
func (r *Router) CloseAll(condition string) {
	r.mu.RLock()
	var all []*Conn
	for _, m := range r.user {
		for _, c := range m {
			all = append(all, c)
		}
	}
	r.mu.RUnlock()
	for _, c := range all {
		c.out.Close(condition, "")
	}
}

// Send writes st to this session at once, bypassing CSI (replies).
func (c *Conn) Send(st *elem.Element) {
	if err := c.out.Send(st); err != nil {
		c.r.cfg.Log.Debug("xmpp: send", "to", c.full, "err", err)
	}
}

// deliver writes st to this session, holding non-urgent stanzas while the
// client is inactive.
func (c *Conn) deliver(st *elem.Element) {
	c.mu.Lock()
	if c.inactive && !csi.Urgent(st) {
		full := c.held.Add(st)
		if !full {
			c.mu.Unlock()
			return
		}
		held := c.held.Take()
		c.mu.Unlock()
		for _, h := range held {
			c.Send(h)
		}
		return
	}
	var held []*elem.Element
	if c.held.Len() > 0 {
		held = c.held.Take()
	}
	c.mu.Unlock()
	for _, h := range held {
		c.Send(h)
	}
	c.Send(st)
}

// SetActive records a CSI state change; becoming active flushes what was
// held.
func (c *Conn) SetActive(active bool) {
	c.mu.Lock()
	c.inactive = !active
	var held []*elem.Element
	if active {
		held = c.held.Take()
	}
	c.mu.Unlock()
	for _, h := range held {
		c.Send(h)
	}
}

// Route handles one stanza the session sent. The "from" is always the
// session's own full JID: whatever the client wrote there is replaced
// (RFC 6120 §8.1.2.1), so the SASL identity is the only identity.
func (c *Conn) Route(ctx context.Context, st *elem.Element) {
	st.SetAttr("from", c.full)
	var to jid.JID
	if s := st.Get("to"); s != "" {
		j, err := c.parseTo(s)
		if err != nil {
			if st.Type() != "error" {
				c.Send(elem.ErrorReply(st, elem.Modify, "jid-malformed"))
			}
			return
		}
		to = j
		st.SetAttr("to", j.String())
	}
	switch st.Name.Local {
	case "message":
		c.routeMessage(ctx, st, to)
	case "presence":
		c.routePresence(ctx, st, to)
	case "iq":
		c.routeIQ(ctx, st, to)
	}
}

// parseTo parses a "to" address. A session mostly writes to the same
// JID again, so the last one parsed is kept: the PRECIS and IDNA rules
// of jid.Parse cost more than the rest of routing a message. Only the
// session's reading goroutine calls Route.
func (c *Conn) parseTo(s string) (jid.JID, error) {
	if s == c.lastTo && s != "" {
		return c.lastToJID, nil
	}
	j, err := jid.Parse(s)
	if err == nil {
		c.lastTo, c.lastToJID = s, j
	}
	return j, err
}

func (r *Router) local(j jid.JID) bool { return j.Domainpart() == r.cfg.Domain }

// exists reports whether a local user has an account.
func (r *Router) exists(ctx context.Context, user string) bool {
	if len(r.conns(user)) > 0 {
		return true
	}
	ok, err := r.cfg.Accounts.Exists(ctx, user)
	if err != nil {
		r.cfg.Log.Warn("xmpp: account lookup", "user", user, "err", err)
	}
	return ok
}

// Forget drops cached per-user state (account deleted).
func (r *Router) Forget(user string) {
	r.cfg.Blocking.Forget(user)
}
