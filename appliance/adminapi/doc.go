// Package adminapi is the wire protocol of boxd's local admin API: JSON over
// HTTP on a unix socket (mode 0600) in the data directory. boxd serves it;
// boxctl is its client. Only the socket's owner (root on the box) can talk
// to it, which is the whole access control.
//
// It imports only the standard library and services (for Health).
package adminapi
