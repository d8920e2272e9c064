package images

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/chatsecure/box/config"
	"github.com/chatsecure/box/images/progargs"
)

// InitPkg is the image's init program, installed as /gokrazy/init.
const InitPkg = "github.com/chatsecure/box/cmd/boxinit"

// gokrazyHelpers are gokrazy's own programs the init supervises: DHCP for
// the network, NTP when it is reachable, randomd to seed the kernel's entropy
// pool from /perm across boots.
var gokrazyHelpers = []string{"dhcp", "ntp", "randomd"}

// Options say what to build.
type Options struct {
	Target  Target
	Version string
	// Out is the image path, e.g. build/box-amd64-V.img; the payloads are
	// written beside it (.root.squashfs, .boot.vfat).
	Out string
	// Programs are the box's own programs, installed under /user/.
	Programs []Program
	Layout   Layout
	Hostname string
	// ModuleDir is the main module's directory (where go.mod is).
	ModuleDir string
	// WorkDir holds built binaries and the staged root; reused between runs.
	WorkDir string
	GoTool  string
	GPIO    config.GPIO
	// Epoch pins file times in the root squashfs.
	Epoch int64
	// Files are extra files for the root (absolute path → content), e.g.
	// a test image's config; release images (cmd/boxbuild) have none.
	Files map[string][]byte
	Log   *slog.Logger
}

// Result says what was built.
type Result struct {
	Image, RootSquashfs, BootFS string
	ImageBytes                  int64 // apparent size of the image
	RootBytes, BootBytes        int64
	Cmdline                     string
	Bins                        map[string]string // root path → built file
	Took                        time.Duration
	Steps                       map[string]time.Duration
}

// Build builds the image and its update payloads.
func Build(ctx context.Context, o Options) (*Result, error) {
	start := time.Now()
	if err := o.check(); err != nil {
		return nil, err
	}
	res := &Result{
		Image:        o.Out,
		RootSquashfs: strings.TrimSuffix(o.Out, ".img") + ".root.squashfs",
		BootFS:       strings.TrimSuffix(o.Out, ".img") + ".boot.vfat",
		Bins:         map[string]string{},
		Steps:        map[string]time.Duration{},
	}
	step := func(name string, t0 time.Time) {
		res.Steps[name] = time.Since(t0)
		o.Log.Info("images: step done", "step", name, "took", time.Since(t0).Round(time.Millisecond))
	}
	for _, d := range []string{filepath.Dir(o.Out), o.WorkDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("images: %w", err)
		}
	}

	t0 := time.Now()
	src, err := o.sources(ctx)
	if err != nil {
		return nil, err
	}
	step("modules", t0)

	t0 = time.Now()
	if err := o.buildPrograms(ctx, res); err != nil {
		return nil, err
	}
	step("go build", t0)

	t0 = time.Now()
	stage := filepath.Join(o.WorkDir, "root")
	if err := os.RemoveAll(stage); err != nil {
		return nil, fmt.Errorf("images: %w", err)
	}
	ca := "/etc/ssl/certs/ca-certificates.crt"
	if _, err := os.Stat(ca); err != nil {
		ca = ""
	}
	args := map[string][]string{}
	for _, p := range o.Programs {
		args[p.Dest] = p.Args
	}
	if err := StageRoot(stage, RootFiles{Bins: res.Bins, KernelDir: src.KernelDir, Hostname: o.Hostname, Version: o.Version, CABundle: ca, Args: args, Files: o.Files}); err != nil {
		return nil, err
	}
	if err := MakeSquashfs(ctx, stage, res.RootSquashfs, o.Epoch); err != nil {
		return nil, err
	}
	if res.RootBytes, err = fileSize(res.RootSquashfs); err != nil {
		return nil, err
	}
	if res.RootBytes > o.Layout.RootBytes {
		return nil, fmt.Errorf("images: root squashfs is %d bytes, the root partition %d", res.RootBytes, o.Layout.RootBytes)
	}
	step("root squashfs", t0)

	t0 = time.Now()
	id := DiskIDForHost(o.Hostname)
	if res.Cmdline, err = o.cmdline(src, id); err != nil {
		return nil, err
	}
	cfg := ""
	if o.Target.FirmwareModule != "" {
		base, err := os.ReadFile(filepath.Join(src.KernelDir, "config.txt"))
		if err != nil {
			return nil, fmt.Errorf("images: %w", err)
		}
		if cfg, err = ConfigTxt(string(base), o.GPIO); err != nil {
			return nil, err
		}
	}
	files, err := bootFiles(o.Target, src, CmdlineFile(res.Cmdline), cfg)
	if err != nil {
		return nil, err
	}
	if err := checkSlotRoom(files, o.Layout.BootBytes); err != nil {
		return nil, err
	}
	if err := WriteBootFS(ctx, res.BootFS, o.Layout.BootBytes, o.Layout.Partitions()[0].FirstLBA, files); err != nil {
		return nil, err
	}
	res.BootBytes = o.Layout.BootBytes
	step("boot fat", t0)

	t0 = time.Now()
	if err := writeImage(o.Out, o.Layout, id, o.Target.RootType, res.BootFS, res.RootSquashfs); err != nil {
		return nil, err
	}
	res.ImageBytes = o.Layout.DiskSectors() * SectorSize
	step("disk image", t0)
	res.Took = time.Since(start)
	return res, nil
}

func (o *Options) check() error {
	if o.Target.Name == "" {
		return fmt.Errorf("images: no target")
	}
	if o.Version == "" || strings.ContainsAny(o.Version, " /\n") {
		return fmt.Errorf("images: version %q: want a non-empty word", o.Version)
	}
	if o.Out == "" || !strings.HasSuffix(o.Out, ".img") {
		return fmt.Errorf("images: out %q: want a path ending in .img", o.Out)
	}
	if o.Hostname == "" {
		o.Hostname = "box"
	}
	if o.Layout == (Layout{}) {
		o.Layout = DefaultLayoutFor(o.Target)
	}
	if o.GoTool == "" {
		o.GoTool = "go"
	}
	if o.Log == nil {
		return fmt.Errorf("images: no logger")
	}
	for _, p := range o.Programs {
		if _, err := progargs.Format(p.Args); err != nil {
			return fmt.Errorf("images: %s: %w", p.Pkg, err)
		}
	}
	if o.GPIO.LEDPin == "" {
		o.GPIO = config.Default().GPIO
	}
	return o.Layout.Validate()
}

func (o *Options) sources(ctx context.Context) (bootSources, error) {
	var src bootSources
	var err error
	if src.KernelDir, err = ModuleDir(ctx, o.GoTool, o.ModuleDir, o.Target.KernelModule); err != nil {
		return src, err
	}
	if o.Target.FirmwareModule != "" {
		if src.FirmwareDir, err = ModuleDir(ctx, o.GoTool, o.ModuleDir, o.Target.FirmwareModule); err != nil {
			return src, err
		}
		if src.EEPROMDir, err = ModuleDir(ctx, o.GoTool, o.ModuleDir, o.Target.EEPROMModule); err != nil {
			return src, err
		}
	}
	return src, nil
}

func (o *Options) buildPrograms(ctx context.Context, res *Result) error {
	progs := []Program{{Pkg: InitPkg, Dest: "/gokrazy/init"}}
	for _, h := range gokrazyHelpers {
		progs = append(progs, Program{Pkg: "github.com/gokrazy/gokrazy/cmd/" + h, Dest: "/gokrazy/" + h})
	}
	progs = append(progs, o.Programs...)
	b := GoBuilder{GoTool: o.GoTool, Dir: o.ModuleDir, LDFlags: "-X main.version=" + o.Version + " -X github.com/chatsecure/box/appliance.Version=" + o.Version}
	binDir := filepath.Join(o.WorkDir, "bin")
	for _, p := range progs {
		if _, dup := res.Bins[p.Dest]; dup {
			return fmt.Errorf("images: two programs install %s", p.Dest)
		}
		out := filepath.Join(binDir, strings.TrimPrefix(p.Dest, "/"))
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return fmt.Errorf("images: %w", err)
		}
		t0 := time.Now()
		if err := b.Build(ctx, o.Target, p, out); err != nil {
			return err
		}
		o.Log.Info("images: built", "pkg", p.Pkg, "dest", p.Dest, "cgo", p.Cgo, "took", time.Since(t0).Round(time.Millisecond))
		res.Bins[p.Dest] = out
	}
	return nil
}

func (o *Options) cmdline(src bootSources, id DiskID) (string, error) {
	base, err := os.ReadFile(filepath.Join(src.KernelDir, "cmdline.txt"))
	if err != nil {
		return "", fmt.Errorf("images: %w", err)
	}
	if o.Target.FirmwareModule == "" {
		// The kernel package waits 10 s for slow USB disks; rootwait waits
		// exactly as long as the root device takes to appear.
		base = []byte(strings.ReplaceAll(string(base), "rootdelay=10", "rootwait"))
	}
	return Cmdline(string(base), id.RootArg(), o.Target.Consoles, nil)
}

// writeImage writes the partition table and copies the boot FAT into
// partition 1 and the root squashfs into root A. Root B and /perm stay
// zero: updates fill B, cmd/boxinit formats /perm on first boot. Only
// non-zero blocks are written, so the image file stays sparse.
func writeImage(out string, l Layout, id DiskID, rootType, bootFS, root string) error {
	tmp := out + ".tmp"
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("images: image: %w", err)
	}
	defer os.Remove(tmp)
	defer f.Close()
	if err := f.Truncate(l.DiskSectors() * SectorSize); err != nil {
		return fmt.Errorf("images: image: %w", err)
	}
	if err := WritePartitionTable(f, l, id, rootType); err != nil {
		return err
	}
	ps := l.Partitions()
	for _, c := range []struct {
		src string
		p   Partition
	}{{bootFS, ps[0]}, {root, ps[1]}} {
		if err := copySparse(f, c.p, c.src); err != nil {
			return err
		}
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("images: image: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("images: image: %w", err)
	}
	if err := os.Rename(tmp, out); err != nil {
		return fmt.Errorf("images: image: %w", err)
	}
	return nil
}

func copySparse(dst io.WriterAt, p Partition, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("images: image: %w", err)
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return fmt.Errorf("images: image: %w", err)
	}
	if st.Size() > p.Size() {
		return fmt.Errorf("images: image: %s (%d bytes) does not fit partition %d (%d bytes)", src, st.Size(), p.Number, p.Size())
	}
	buf := make([]byte, 1<<16)
	zero := make([]byte, len(buf))
	for off := int64(0); ; {
		n, err := io.ReadFull(in, buf)
		if n > 0 && !bytes.Equal(buf[:n], zero[:n]) {
			if _, werr := dst.WriteAt(buf[:n], p.Offset()+off); werr != nil {
				return fmt.Errorf("images: image: %w", werr)
			}
		}
		off += int64(n)
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("images: image: %w", err)
		}
	}
}

func fileSize(p string) (int64, error) {
	st, err := os.Stat(p)
	if err != nil {
		return 0, fmt.Errorf("images: %w", err)
	}
	return st.Size(), nil
}
