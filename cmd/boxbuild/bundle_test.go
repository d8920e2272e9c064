package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chatsecure/box/updates/bundle"
)

func TestBundleFromImagePayloads(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "box-pi-1.2.3.root.squashfs"), bytes.Repeat([]byte("r"), 5000), 0o644)
	os.WriteFile(filepath.Join(dir, "box-pi-1.2.3.boot.vfat"), bytes.Repeat([]byte("b"), 300), 0o644)
	var out bytes.Buffer
	if err := runBundle([]string{"-target", "pi", "-version", "1.2.3", "-build", "7", "-dir", dir}, &out); err != nil {
		t.Fatal(err)
	}
	f, err := bundle.Open(filepath.Join(dir, "box-pi-1.2.3.boxupdate"))
	if err != nil {
		t.Fatalf("read back: %v", err)
	}
	defer f.Close()
	m := f.Manifest
	if m.Target != "pi" || m.Version != "1.2.3" || m.Build != 7 || len(m.Payloads) != 2 {
		t.Fatalf("manifest %+v", m)
	}
	if err := runBundle([]string{"-target", "amd64", "-version", "9.9.9", "-build", "1", "-dir", dir}, &out); err == nil || !strings.Contains(err.Error(), "boxbuild image") {
		t.Fatalf("missing payloads: %v", err)
	}
	if err := runBundle([]string{"-version", "1.2.3", "-dir", dir}, &out); err == nil {
		t.Fatal("no -build accepted")
	}
}
