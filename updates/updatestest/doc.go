// Package updatestest has in-memory twins of the interfaces the appliance
// backs with the store: Floor, TrustStore and History.
//
// It imports updates and updates/trust.
package updatestest
