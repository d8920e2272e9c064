// Package selfcheck is the client side of the box's own XMPP health check:
// Login dials the c2s listener the way a phone would (STARTTLS, SCRAM,
// resource binding), accepts only the box's own certificate, and asks for
// the roster once, so TCP accept, TLS, SASL, bind, the router and a store
// read are all exercised. It logs in with the one-shot credential that
// (*xmpp.Server).HealthLogin issues; the appliance runs it on a trial boot
// before committing an update.
//
// It imports the standard library and mellium.im (sasl, xmpp, xmpp/jid,
// xmpp/roster, xmlstream); not services/xmpp, and never appliance.
package selfcheck
