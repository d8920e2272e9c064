// Package version answers XEP-0092 Software Version for the server. It
// says the software's name and version but not the OS (XEP-0092 §3 lets
// a server keep that private).
//
// It imports elem and router.
package version
