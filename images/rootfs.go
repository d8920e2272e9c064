package images

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"

	"github.com/chatsecure/box/images/progargs"
)

// RootFiles describes what goes into the root file system besides the
// directory skeleton.
type RootFiles struct {
	// Bins maps destination paths ("/gokrazy/init") to built host files.
	Bins map[string]string
	// KernelDir is the kernel module directory; its lib/modules is copied.
	KernelDir string
	Hostname  string
	Version   string
	// CABundle is a host CA bundle for TLS clients on the box; optional.
	CABundle string
	// Args maps destination paths of Bins to their arguments.
	Args map[string][]string
	// Files are extra files (absolute path → content, mode 0644), e.g. the
	// e2e test's config. They may not replace anything staged otherwise.
	Files map[string][]byte
}

// rootDirs are the mount points and directories gokrazy's init expects.
var rootDirs = []string{"dev", "etc", "etc/ssl/certs", "etc/box", "gokrazy", "lib", "perm", "proc", "run", "sys", "tmp", "user"}

// StageRoot lays out the root file system in the empty directory dir.
//
// No /etc/gokr-pw.txt is written on purpose: without it gokrazy's init runs
// its HTTP server (status pages, /update/*) on the unix socket
// /run/gokrazy-http.sock only and never on a network address (gokrazy.Boot
// reads the password only if that file exists; updateListeners adds private
// interface addresses only when a password is set).
func StageRoot(dir string, rf RootFiles) error {
	for _, d := range rootDirs {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return fmt.Errorf("images: stage root: %w", err)
		}
	}
	links := map[string]string{
		"etc/resolv.conf": "/tmp/resolv.conf", // gokrazy's dhcp writes it there
		"var":             "/perm/var",
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("images: stage root: %w", err)
		}
	}
	files := map[string]string{
		"etc/hostname":    rf.Hostname,
		"etc/hosts":       "127.0.0.1 localhost\n::1 localhost\n",
		"etc/box/version": rf.Version + "\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return fmt.Errorf("images: stage root: %w", err)
		}
	}
	if rf.CABundle != "" {
		if err := copyFile(rf.CABundle, filepath.Join(dir, "etc/ssl/certs/ca-certificates.crt"), 0o644); err != nil {
			return err
		}
	}
	for dest, src := range rf.Bins {
		if !filepath.IsAbs(dest) {
			return fmt.Errorf("images: stage root: destination %q is not absolute", dest)
		}
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(dest)), 0o755); err != nil {
			return fmt.Errorf("images: stage root: %w", err)
		}
		if err := copyFile(src, filepath.Join(dir, dest), 0o755); err != nil {
			return err
		}
	}
	for dest, args := range rf.Args {
		if _, ok := rf.Bins[dest]; !ok {
			return fmt.Errorf("images: stage root: arguments for %s, which is not in the image", dest)
		}
		if len(args) == 0 {
			continue
		}
		content, err := progargs.Format(args)
		if err != nil {
			return fmt.Errorf("images: stage root: %s: %w", dest, err)
		}
		if err := writeNew(dir, progargs.Path(dest), []byte(content)); err != nil {
			return err
		}
	}
	for dest, content := range rf.Files {
		if err := writeNew(dir, dest, content); err != nil {
			return err
		}
	}
	if rf.KernelDir != "" {
		if err := copyTree(filepath.Join(rf.KernelDir, "lib"), filepath.Join(dir, "lib")); err != nil {
			return err
		}
	}
	return nil
}

// writeNew writes an absolute-path file under the staged root dir, refusing
// to replace one that is already there.
func writeNew(dir, dest string, content []byte) error {
	if !filepath.IsAbs(dest) || filepath.Clean(dest) != dest {
		return fmt.Errorf("images: stage root: file %q: want a clean absolute path", dest)
	}
	p := filepath.Join(dir, dest)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("images: stage root: %w", err)
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("images: stage root: %w", err)
	}
	if _, err := f.Write(content); err != nil {
		f.Close()
		return fmt.Errorf("images: stage root: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("images: stage root: %w", err)
	}
	return nil
}

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("images: copy: %w", err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return fmt.Errorf("images: copy: %w", err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("images: copy %s: %w", src, err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("images: copy %s: %w", src, err)
	}
	// The module cache is read-only; the image must not inherit that.
	return os.Chmod(dst, mode)
}

func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("images: copy tree: %w", err)
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("images: copy tree: %s is not a regular file", p)
		}
		return copyFile(p, target, 0o644)
	})
}

// MakeSquashfs packs dir into the squashfs image out with Debian's
// mksquashfs: gzip (the compressor gokrazy's kernels enable), every file
// owned by root, no xattrs, and all times pinned to epoch so that equal
// inputs give equal images.
func MakeSquashfs(ctx context.Context, dir, out string, epoch int64) error {
	if err := os.Remove(out); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("images: mksquashfs: %w", err)
	}
	t := strconv.FormatInt(epoch, 10)
	cmd := exec.CommandContext(ctx, "mksquashfs", dir, out,
		"-noappend", "-comp", "gzip", "-all-root", "-no-xattrs",
		"-mkfs-time", t, "-all-time", t, "-quiet", "-no-progress")
	var outb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &outb, &outb
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("images: mksquashfs (Debian squashfs-tools): %w: %s", err, outb.Bytes())
	}
	return nil
}
