// Package private implements XEP-0049 Private XML Storage: a user stores
// XML under namespaces of their choice (bookmarks, client settings) and
// gets it back; nobody else can read it.
//
// It imports database/sql, elem, offline (for parsing stored XML) and router.
package private
