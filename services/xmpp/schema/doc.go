// Package schema holds the XMPP server's database tables as one ordered list
// of migration steps under the store service name "xmpp". Steps are only
// ever appended: the store counts applied steps as the schema version.
//
// Every table hangs off xmpp_accounts with ON DELETE CASCADE, so deleting
// an account deletes its roster, offline messages, block list, vCard and
// private XML. It imports only the standard library.
package schema
