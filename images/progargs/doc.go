// Package progargs is how a program's command-line arguments travel in the
// image: gokrazy's packer compiles flags into the init it generates, but our
// init (cmd/boxinit) is fixed, so the image builder writes each program's
// arguments as a file in the read-only root and boxinit reads them back.
//
// It imports only the standard library (cmd/boxinit links it).
package progargs
