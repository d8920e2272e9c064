// Package sign is the boxsign release tool: key generation, signing and
// verifying .boxupdate bundles, inspecting them, and writing and attaching
// key-rotation statements. cmd/boxsign is a thin main around Run, so the
// whole command line is tested in-process.
//
// It imports updates, updates/bundle, updates/trust and config/atomicfile.
package sign
