// Package csi implements the server side of XEP-0352: Client State
// Indication. While a client says it is inactive, presence and other
// non-urgent stanzas are held (only the newest presence per sender is
// kept) and flushed when it becomes active again or when the queue fills;
// messages with a body, IQs and errors go out at once.
//
// It imports elem only.
package csi
