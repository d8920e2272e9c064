package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chatsecure/box/images"
	"github.com/chatsecure/box/updates/bundle"
	"github.com/chatsecure/box/updates/tryboot"
)

func TestBundleFromImagePayloads(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "box-pi-1.2.3.root.squashfs"), bytes.Repeat([]byte("r"), 5000), 0o644)
	piBoot(t, filepath.Join(dir, "box-pi-1.2.3.boot.vfat"), true)
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
	// The pi boot payload is the FAT up to its last used cluster, and still
	// a boot payload a tryboot box takes.
	whole, _ := os.ReadFile(filepath.Join(dir, "box-pi-1.2.3.boot.vfat"))
	trimmed, err := os.ReadFile(filepath.Join(dir, "box-pi-1.2.3.boot.trimmed.vfat"))
	if err != nil || m.Payloads[1].Name != "boot" || m.Payloads[1].Size != int64(len(trimmed)) || len(trimmed) >= len(whole)/4 || !bytes.HasPrefix(whole, trimmed) {
		t.Fatalf("boot payload %+v: trimmed %d of %d bytes (%v)", m.Payloads[1], len(trimmed), len(whole), err)
	}
	if err := tryboot.CheckBootPayload(bytes.NewReader(trimmed)); err != nil {
		t.Errorf("trimmed payload: %v", err)
	}
	if err := runBundle([]string{"-target", "amd64", "-version", "9.9.9", "-build", "1", "-dir", dir}, &out); err == nil || !strings.Contains(err.Error(), "boxbuild image") {
		t.Fatalf("missing payloads: %v", err)
	}
	if err := runBundle([]string{"-version", "1.2.3", "-dir", dir}, &out); err == nil {
		t.Fatal("no -build accepted")
	}
}

// piBoot writes a small pi boot FAT, with the tryboot slot layout or
// (slots false) the one from before it.
func piBoot(t *testing.T, path string, slots bool) {
	t.Helper()
	cfg := "kernel=vmlinuz\n"
	files := []images.BootFile{{Name: "/cmdline.txt", Data: images.CmdlineFile("root=PARTUUID=ab/PARTNROFF=1")}, {Name: "/vmlinuz", Data: []byte("k")}}
	if slots {
		cfg += "[pi4]\nos_prefix=a/\n[all]\n"
		files = append(files, images.BootFile{Name: "/a/cmdline.txt", Data: images.CmdlineFile("root=PARTUUID=ab/PARTNROFF=1")}, images.BootFile{Name: "/a/vmlinuz", Data: []byte("k")})
	}
	files = append(files, images.BootFile{Name: "/config.txt", Data: []byte(cfg)})
	if err := images.WriteBootFS(context.Background(), path, 16<<20, 0, files); err != nil {
		t.Fatal(err)
	}
}

func TestBundleRefusesPiBootWithoutSlots(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "box-pi-1.0.0.root.squashfs"), []byte("r"), 0o644)
	piBoot(t, filepath.Join(dir, "box-pi-1.0.0.boot.vfat"), false)
	var out bytes.Buffer
	err := runBundle([]string{"-target", "pi", "-version", "1.0.0", "-build", "1", "-dir", dir}, &out)
	if err == nil || !strings.Contains(err.Error(), "a/") {
		t.Fatalf("old-layout pi boot payload: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "box-pi-1.0.0.boxupdate")); err == nil {
		t.Fatal("bundle written anyway")
	}
	// amd64 payloads are not looked into.
	os.WriteFile(filepath.Join(dir, "box-amd64-1.0.0.root.squashfs"), []byte("r"), 0o644)
	os.WriteFile(filepath.Join(dir, "box-amd64-1.0.0.boot.vfat"), []byte("b"), 0o644)
	if err := runBundle([]string{"-target", "amd64", "-version", "1.0.0", "-build", "1", "-dir", dir}, &out); err != nil {
		t.Fatal(err)
	}
}
