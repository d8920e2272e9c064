package images

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path"
	"strings"
)

// Program is one Go program of the image.
type Program struct {
	// Pkg is the package to build: a module-relative path ("./cmd/boxd") or
	// an import path ("github.com/gokrazy/gokrazy/cmd/dhcp").
	Pkg string
	// Dest is its path in the root file system, e.g. "/user/boxd".
	Dest string
	// Cgo builds with cgo, linked statically (boxd needs it for SQLCipher).
	Cgo bool
	// Args are the program's command-line arguments; they travel in the
	// root as progargs.Path(Dest), where cmd/boxinit reads them.
	Args []string
}

// ParseProgram parses "pkg" or "pkg:cgo" into a program installed under
// /user/ with the package's base name.
func ParseProgram(s string) (Program, error) {
	pkg, opt, _ := strings.Cut(s, ":")
	if pkg == "" || (opt != "" && opt != "cgo") {
		return Program{}, fmt.Errorf("images: program %q: want pkg or pkg:cgo", s)
	}
	return Program{Pkg: pkg, Dest: "/user/" + path.Base(pkg), Cgo: opt == "cgo"}, nil
}

// GoBuilder cross-compiles static programs with the go tool.
type GoBuilder struct {
	GoTool string // "go" if empty
	Dir    string // main module directory
	// LDFlags are appended to every build's -ldflags (e.g. -X main.version=).
	LDFlags string
}

// Build compiles p for t into out. Pure Go programs build with
// CGO_ENABLED=0, which is static by construction; cgo programs link
// statically with the target's C compiler, and netgo/osusergo keep glibc's
// NSS (which cannot work statically) out of them.
func (b GoBuilder) Build(ctx context.Context, t Target, p Program, out string) error {
	goTool := b.GoTool
	if goTool == "" {
		goTool = "go"
	}
	ldflags := "-s -w"
	tags := "netgo,osusergo"
	env := append(os.Environ(), "GOOS=linux", "GOARCH="+t.GOARCH)
	if p.Cgo {
		ldflags += ` -linkmode external -extldflags "-static"`
		tags += ",sqlite_omit_load_extension"
		env = append(env, "CGO_ENABLED=1", "CC="+t.CC)
	} else {
		env = append(env, "CGO_ENABLED=0")
	}
	if b.LDFlags != "" {
		ldflags += " " + b.LDFlags
	}
	args := []string{"build", "-trimpath", "-tags", tags, "-ldflags", ldflags, "-o", out, p.Pkg}
	cmd := exec.CommandContext(ctx, goTool, args...)
	cmd.Dir = b.Dir
	cmd.Env = env
	var outb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &outb, &outb
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("images: build %s for %s: %w: %s", p.Pkg, t.Name, err, outb.Bytes())
	}
	return CheckStatic(out, t.Machine)
}
