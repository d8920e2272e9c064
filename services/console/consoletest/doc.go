// Package consoletest has in-memory twins of what the console is given
// (Box, which also implements console.Updates with a fake updater,
// Accounts, Rosters) and Start, which runs a console on 127.0.0.1
// with them for tests, including the browser end-to-end test.
//
// It may import config, services, services/console,
// services/store/storetest, updates/bundle (to parse uploaded bundles)
// and the standard library.
package consoletest
