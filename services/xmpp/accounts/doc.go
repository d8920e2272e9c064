// Package accounts keeps the XMPP user accounts of the box's one domain:
// usernames (RFC 7622 localparts, UsernameCaseMapped) and their SCRAM
// credentials (RFC 5802/7677 StoredKey and ServerKey for SHA-1 and SHA-256),
// never the passwords.
//
// It imports database/sql, the schema, sasl and mellium.im/xmpp/jid.
package accounts
