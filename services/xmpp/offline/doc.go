// Package offline stores messages for users with no available resource
// (XEP-0160: Best Practices for Handling Offline Messages), up to a quota
// per user, stamped with a delay element (XEP-0203), and hands them out
// (and deletes them) when the user sends initial presence.
//
// It imports database/sql and elem.
package offline
