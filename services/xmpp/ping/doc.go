// Package ping answers XEP-0199 XMPP Ping sent to the server or to an
// account. (The server's own pings to idle clients, for dead-peer
// detection, are sent by the stream code.)
//
// It imports elem and router.
package ping
