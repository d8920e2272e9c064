// Package tryboottest holds the test twins of package tryboot: a boot FAT
// played by a directory (Dir), a Restarter that records its argument, a
// fake device tree, and a fake Raspberry Pi firmware (Resolve) that says
// which kernel, cmdline and device tree a Pi would boot from a boot FAT.
//
// Resolve is written from the Raspberry Pi documentation, not from package
// tryboot: config.txt, or tryboot.txt when the one-shot tryboot flag is set
// (raspberrypi.com/documentation/computers/raspberry-pi.html, "Fail-safe OS
// updates (TRYBOOT)"); model filters [pi3] [pi4] [pi5] [all] [none]
// (config_txt "Conditional filters"); os_prefix prepended to the kernel,
// cmdline.txt, device trees and overlays, and ignored unless the kernel and
// device tree exist under it (config_txt "os_prefix").
//
// It imports only the standard library.
package tryboottest
