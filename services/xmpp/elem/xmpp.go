package elem

// Namespaces used across the server.
const (
	NSClient  = "jabber:client"
	NSStanzas = "urn:ietf:params:xml:ns:xmpp-stanzas"
	NSStreams = "urn:ietf:params:xml:ns:xmpp-streams"
)

// IsStanza reports whether e is a message, presence or iq in jabber:client.
func (e *Element) IsStanza() bool {
	if e.Name.Space != NSClient {
		return false
	}
	switch e.Name.Local {
	case "message", "presence", "iq":
		return true
	}
	return false
}

// Type is the stanza's type attribute.
func (e *Element) Type() string { return e.Get("type") }

// Result makes the empty result of an IQ get or set.
func Result(iq *Element) *Element {
	r := New(NSClient, "iq", "type", "result", "id", iq.Get("id"))
	if to := iq.Get("to"); to != "" {
		r.SetAttr("from", to)
	}
	if from := iq.Get("from"); from != "" {
		r.SetAttr("to", from)
	}
	return r
}

// Error types (RFC 6120 §8.3.2).
const (
	Cancel   = "cancel"
	Modify   = "modify"
	Auth     = "auth"
	Wait     = "wait"
	Continue = "continue"
)

// ErrorReply turns st around into an error stanza with a defined
// condition (RFC 6120 §8.3.3), keeping its payload as RFC 6120 allows.
func ErrorReply(st *Element, typ, condition string) *Element {
	r := &Element{Name: st.Name}
	r.SetAttr("type", "error")
	if id := st.Get("id"); id != "" {
		r.SetAttr("id", id)
	}
	if to := st.Get("to"); to != "" {
		r.SetAttr("from", to)
	}
	if from := st.Get("from"); from != "" {
		r.SetAttr("to", from)
	}
	if st.Name.Local != "iq" {
		// Keep the payload of messages and presence so the sender can tell
		// which one failed; IQ errors stay small.
		r.Children = append(r.Children, st.Copy().Children...)
	}
	e := New(NSClient, "error", "type", typ)
	e.Add(New(NSStanzas, condition))
	return r.Add(e)
}
