// Package updates takes signed firmware onto the box: it verifies a
// .boxupdate bundle completely before writing a byte, streams the payloads
// to the inactive A/B slot with a read-back hash, marks that slot for one
// trial boot, and commits it only when the appliance says the new system is
// healthy. Anything else (a failed check, a hang, a crash) leaves the old
// system as the next boot.
//
// The Updater is the whole API. The appliance backs its small interfaces:
//   - Slots: the A/B partitions and the boot pointer (devslots for dev mode
//     and tests; gokrazyslots, gokrazy's root partitions and cmdline.txt,
//     on the image; tryboot, A/B boot files through the firmware's tryboot
//     on a Pi 4 or 5);
//   - Floor: the anti-rollback build number (store, and a TPM NV counter
//     on boxes with a TPM);
//   - TrustStore: the key set reached by rotation (store);
//   - History: the update log (store).
//
// updatestest has in-memory twins of Floor, TrustStore and History.
// Subpackages: bundle (file format), trust (keys, sets, rotation), devslots,
// gokrazyslots, tryboot,
// source (upload staging, HTTPS feed, USB stick), admin (admin API handler
// and boxctl client), sign (the boxsign tool).
//
// It imports updates/bundle and updates/trust only.
package updates
