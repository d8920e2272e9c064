// Package devslots is the A/B slot pair of dev mode and tests: plain files
// under a data directory (rootA.img, rootB.img, bootA.img, bootB.img) and a
// state file, state.json, that plays the boot pointer (which slot is
// active, which one gets a trial boot, how many trial boots happened). The
// state file is only ever replaced atomically (config/atomicfile), so a
// crash leaves the old pointer or the new one.
//
// It simulates what the real box gets from its boot firmware: a trial slot
// is booted once; if that boot does not commit, the next Boot goes back to
// the active slot.
//
// It imports updates and config/atomicfile.
package devslots
