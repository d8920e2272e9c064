package images

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

const usage = `usage: boxbuild image -target amd64|pi -version V [-out build/box-<target>-<V>.img] [-programs pkg[:cgo],...]`

// Run is boxbuild's command line: `boxbuild image ...`. It prints a summary
// of what it built to stdout.
func Run(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
	if len(args) == 0 || args[0] != "image" {
		return fmt.Errorf("images: %s", usage)
	}
	fs := flag.NewFlagSet("boxbuild image", flag.ContinueOnError)
	fs.SetOutput(stdout)
	target := fs.String("target", "amd64", "amd64 or pi")
	version := fs.String("version", "", "image version (required)")
	out := fs.String("out", "", "image path (default build/box-<target>-<version>.img)")
	programs := fs.String("programs", "./cmd/boxd:cgo", "comma-separated programs for /user/, pkg or pkg:cgo")
	hostname := fs.String("hostname", "box", "hostname; also seeds the PARTUUIDs")
	permMiB := fs.Int64("perm-mib", DefaultLayout().PermBytes/mib, "size of /perm in the image file, MiB")
	work := fs.String("work", "", "work directory (default build/work/<target>)")
	if err := fs.Parse(args[1:]); err != nil {
		return fmt.Errorf("images: %w", err)
	}
	t, err := LookupTarget(*target)
	if err != nil {
		return err
	}
	if *version == "" {
		return fmt.Errorf("images: -version is required; %s", usage)
	}
	modDir, err := moduleRoot(ctx)
	if err != nil {
		return err
	}
	if *out == "" {
		*out = filepath.Join("build", fmt.Sprintf("box-%s-%s.img", t.Name, *version))
	}
	if *work == "" {
		*work = filepath.Join("build", "work", t.Name)
	}
	var progs []Program
	for _, s := range strings.Split(*programs, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		p, err := ParseProgram(s)
		if err != nil {
			return err
		}
		progs = append(progs, p)
	}
	l := DefaultLayoutFor(t)
	l.PermBytes = *permMiB * mib
	res, err := Build(ctx, Options{
		Target: t, Version: *version, Out: *out, Programs: progs, Layout: l,
		Hostname: *hostname, ModuleDir: modDir, WorkDir: *work, Log: log,
		Epoch: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Unix(),
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "image        %s (%d MiB, sparse)\n", res.Image, res.ImageBytes/mib)
	fmt.Fprintf(stdout, "root payload %s (%d bytes)\n", res.RootSquashfs, res.RootBytes)
	fmt.Fprintf(stdout, "boot payload %s (%d bytes)\n", res.BootFS, res.BootBytes)
	fmt.Fprintf(stdout, "cmdline      %s\n", res.Cmdline)
	fmt.Fprintf(stdout, "took         %s\n", res.Took.Round(time.Millisecond))
	return nil
}

// moduleRoot finds the directory of the main module's go.mod.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("images: go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("images: not inside a Go module")
	}
	return filepath.Dir(gomod), nil
}
