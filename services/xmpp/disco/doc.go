// Package disco answers XEP-0030 Service Discovery (disco#info and
// disco#items) for the server and for user accounts, and computes the
// XEP-0115 Entity Capabilities hash that the server puts in its stream
// features.
//
// It imports elem and router (for the IQ handler signature).
package disco
