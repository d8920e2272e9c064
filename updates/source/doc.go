// Package source brings .boxupdate files onto the box, all usable offline:
// resumable chunked uploads into a staging directory (boxctl and the
// console), a scan of a mounted USB stick, and an optional HTTPS feed with
// a channel (stable, beta), polling and resumable Range downloads.
//
// Nothing here is trusted: every file it yields still goes through
// updates.Updater.Apply, which verifies before writing.
//
// It imports updates/bundle and config/atomicfile.
package source
