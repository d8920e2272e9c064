package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/chatsecure/box/images"
	"github.com/chatsecure/box/updates/bundle"
	"github.com/chatsecure/box/updates/tryboot"
)

// runBundle is `boxbuild bundle`: an unsigned .boxupdate from the payloads
// `boxbuild image` left in build/ (root squashfs and boot partition).
// Release scripts then add signatures with `boxsign sign`.
func runBundle(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("boxbuild bundle", flag.ContinueOnError)
	fs.SetOutput(stdout)
	target := fs.String("target", "amd64", "amd64 or pi")
	version := fs.String("version", "", "version of the image build (required)")
	build := fs.Uint64("build", 0, "release counter, one above the last release: 1, 2, 3… (required; the TPM floor steps once per build)")
	minVersion := fs.String("min-version", "", "oldest version this bundle may update from")
	dir := fs.String("dir", "build", "where boxbuild image wrote its payloads")
	out := fs.String("out", "", "bundle path (default DIR/box-<target>-<version>.boxupdate)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *version == "" || *build == 0 {
		return errors.New("bundle: -version and -build are required")
	}
	base := filepath.Join(*dir, fmt.Sprintf("box-%s-%s", *target, *version))
	files := []bundle.PayloadFile{{Name: "root", Path: base + ".root.squashfs"}, {Name: "boot", Path: base + ".boot.vfat"}}
	for _, f := range files {
		if _, err := os.Stat(f.Path); err != nil {
			return fmt.Errorf("bundle: payload %s: %w (run boxbuild image -target %s -version %s first)", f.Name, err, *target, *version)
		}
	}
	if *target == "pi" {
		if err := checkPiBoot(base + ".boot.vfat"); err != nil {
			return fmt.Errorf("bundle: %w (a Pi 4/5 takes its kernel set from the boot payload's a/ directory: rebuild with boxbuild image -target pi)", err)
		}
		// The Pi's boot FAT is 256 MiB, mostly free: bundle it only up to
		// its last used cluster, which is what the box stages on /perm.
		trimmed := base + ".boot.trimmed.vfat"
		if err := trimFAT(files[1].Path, trimmed); err != nil {
			return fmt.Errorf("bundle: %w", err)
		}
		files[1].Path = trimmed
	}
	if *out == "" {
		*out = base + ".boxupdate"
	}
	spec := bundle.Spec{Target: *target, Version: *version, Build: *build, MinVersion: *minVersion}
	if err := bundle.WriteUnsigned(*out, spec, files); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: unsigned bundle %s build %d for %s; sign with boxsign sign -key KEY %s\n", *out, *version, *build, *target, *out)
	return nil
}

// checkPiBoot refuses a pi boot payload that a Pi 4/5 with tryboot slots
// could not take (updates/tryboot): one from before the slot layout.
func checkPiBoot(p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	return tryboot.CheckBootPayload(f)
}

// trimFAT copies the FAT16 image src up to the end of its last allocated
// cluster to dst.
func trimFAT(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	fs, err := images.OpenFAT16(in, 0)
	if err != nil {
		return err
	}
	end, err := fs.End()
	if err != nil {
		return err
	}
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, io.NewSectionReader(in, 0, end)); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
