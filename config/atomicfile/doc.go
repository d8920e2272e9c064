// Package atomicfile writes files so that a power cut leaves either the old
// content or the new one, never a mix: temp file in the same directory, fsync,
// rename, fsync of the directory. Every file the box keeps under /perm goes
// through it.
package atomicfile
