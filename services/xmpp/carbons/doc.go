// Package carbons implements XEP-0280: Message Carbons. It decides which
// messages are copied and builds the sent/received wrappers (XEP-0297
// forwarded); the router calls it for each delivered chat message.
//
// It imports elem only.
package carbons
