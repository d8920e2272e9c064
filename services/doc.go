// Package services holds the interfaces every service of the box implements
// (services.go); the services themselves are its subpackages (store, xmpp,
// push, console).
//
// Nothing under services/ may import appliance: the appliance wires services,
// never the other way round (enforced by imports_test.go).
package services
