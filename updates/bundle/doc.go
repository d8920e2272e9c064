// Package bundle reads and writes the .boxupdate file: one file holding a
// signed manifest, an optional key-rotation chain, and the payloads.
//
// Byte layout (all integers big-endian):
//
//	offset  size  field
//	0       8     magic "CSBOXUPD"
//	8       2     format version, 1
//	10      2     flags, 0 (reserved; non-zero is refused)
//	12      4     manifest length M, 1..MaxManifestSize
//	16      4     signatures length S, a multiple of 72, at most MaxSignaturesSize
//	20      4     rotation chain length R, 0..MaxRotationsSize
//	24      8     payload length P, the sum of the manifest's payload sizes
//	32      M     manifest: canonical JSON (json.Marshal of Manifest); the
//	              bytes signed are exactly these, and a manifest that does not
//	              re-encode to the same bytes is refused, so no two readers can
//	              see different manifests in the same signed bytes
//	32+M    S     signatures: N records of key id (8) || ed25519 signature (64)
//	              over "chatsecure-box manifest v1\x00" || manifest
//	+S      R     rotation chain: JSON array of trust.SignedRotation (or empty);
//	              self-authenticating, each statement signed by the set before
//	+R      P     payloads, back to back in manifest order
//
// The file must be exactly 32+M+S+R+P bytes long. Every length is checked
// against its bound from the header alone, before any section is read, so a
// hostile header cannot make the reader allocate or read much.
//
// Signatures are not part of what they sign, so adding one rewrites the file
// (atomically: temp file, fsync, rename) without touching the manifest.
//
// It imports updates/trust and config/atomicfile.
package bundle
