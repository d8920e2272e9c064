// Package source brings .boxupdate files onto the box, all usable offline:
// resumable chunked uploads into a staging directory (boxctl and the
// console), a watcher that mounts USB sticks read-only and scans them, and
// an optional HTTPS feed with a channel (stable, beta), polling and
// resumable Range downloads. What a stick or the feed brings is kept as an
// Offer until an admin applies it (or the box is set to auto-apply).
//
// Nothing here is trusted: every file it yields still goes through
// updates.Updater.Apply, which verifies before writing.
//
// It imports updates/bundle, config (IsLoopback), config/atomicfile and golang.org/x/sys/unix
// (mount(2), Linux only).
package source
