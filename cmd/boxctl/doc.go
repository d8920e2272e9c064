// Command boxctl administers a running boxd through its admin socket:
// status, unlock, integrity check, recovery code, accounts, factory reset.
package main
