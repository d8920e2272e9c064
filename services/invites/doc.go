// Package invites keeps the box's invitations: single- or group-use tokens
// with an expiry, a note and a revoke switch, redeemed by the console's web
// registration and by the XMPP server's pre-authenticated registration
// (XEP-0401 / XEP-0445 ibr-token) alike. A new account is only ever created
// through Redeem, which checks the invite is valid, unexpired, unrevoked and
// not used up, then creates the account and makes inviter and invitee
// contacts of each other.
//
// It may import services/store and the standard library; it knows accounts
// and rosters only through the tiny interfaces in invites.go.
package invites
