package roster

// Subscription values (RFC 6121 §2.1.2.5).
const (
	None = "none"
	To   = "to"
	From = "from"
	Both = "both"
)

// Item is one contact in a user's roster, or a pending inbound request
// from someone not (yet) in it.
type Item struct {
	JID       string // bare JID of the contact
	Name      string
	Groups    []string
	Sub       string
	Ask       bool // pending out: we asked the contact
	PendingIn bool // the contact asked us, not answered yet
	InRoster  bool // visible in roster get and pushes
}

func (it *Item) hasTo() bool   { return it.Sub == To || it.Sub == Both }
func (it *Item) hasFrom() bool { return it.Sub == From || it.Sub == Both }

func (it *Item) set(to, from bool) {
	switch {
	case to && from:
		it.Sub = Both
	case to:
		it.Sub = To
	case from:
		it.Sub = From
	default:
		it.Sub = None
	}
}

// The functions below apply one presence subscription stanza to the roster
// item it concerns, on the side of the user whose roster it is, and report
// whether the item changed (so a roster push is due) and whether the stanza
// should be delivered on (§3). They follow RFC 6121 Appendix A for a server
// that does not support pre-approval.

// OutSubscribe: the user sends subscribe to the contact (§3.1.2).
func OutSubscribe(it *Item) (changed, forward bool) {
	if it.hasTo() {
		return false, false // already subscribed: nothing to ask
	}
	changed = !it.Ask || !it.InRoster
	it.Ask, it.InRoster = true, true
	return changed, true
}

// InSubscribe: the contact's subscribe reaches the user (§3.1.3).
// autoReply is true when the user already lets the contact see presence:
// the server answers subscribed on the user's behalf.
func InSubscribe(it *Item) (changed, deliver, autoReply bool) {
	if it.hasFrom() {
		return false, false, true
	}
	if it.PendingIn {
		return false, false, false // duplicate request
	}
	it.PendingIn = true
	return false, true, false // pending-in is not shown in the roster
}

// OutSubscribed: the user approves the contact's request (§3.1.5).
func OutSubscribed(it *Item) (changed, forward bool) {
	if it.hasFrom() || !it.PendingIn {
		return false, false
	}
	it.PendingIn = false
	it.set(it.hasTo(), true)
	it.InRoster = true
	return true, true
}

// InSubscribed: the contact approved the user's request (§3.1.6).
func InSubscribed(it *Item) (changed, deliver bool) {
	if !it.Ask {
		return false, false
	}
	it.Ask = false
	it.set(true, it.hasFrom())
	return true, true
}

// OutUnsubscribe: the user stops seeing the contact's presence (§3.3.2).
func OutUnsubscribe(it *Item) (changed, forward bool) {
	if !it.hasTo() && !it.Ask {
		return false, true
	}
	it.Ask = false
	it.set(false, it.hasFrom())
	return true, true
}

// InUnsubscribe: the contact stops seeing the user's presence (§3.3.3).
func InUnsubscribe(it *Item) (changed, deliver bool) {
	if !it.hasFrom() && !it.PendingIn {
		return false, false
	}
	it.PendingIn = false
	it.set(it.hasTo(), false)
	return it.InRoster, true
}

// OutUnsubscribed: the user denies or cancels the contact's
// subscription (§3.2.2).
func OutUnsubscribed(it *Item) (changed, forward bool) {
	if !it.hasFrom() && !it.PendingIn {
		return false, false
	}
	it.PendingIn = false
	it.set(it.hasTo(), false)
	return it.InRoster, true
}

// InUnsubscribed: the contact denied or cancelled the user's
// subscription (§3.2.3).
func InUnsubscribed(it *Item) (changed, deliver bool) {
	if !it.hasTo() && !it.Ask {
		return false, false
	}
	it.Ask = false
	it.set(false, it.hasFrom())
	return true, true
}
