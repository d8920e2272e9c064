//go:build e2e

package e2e

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/chatsecure/box/images"
)

// BenchmarkBuildImage measures a warm image build (Go build cache filled by
// the first iteration) per target, with the probe as the only user program:
//
//	go test -tags e2e -run '^$' -bench BuildImage -benchtime 3x ./images/e2e/
func BenchmarkBuildImage(b *testing.B) {
	for _, name := range []string{"amd64", "pi"} {
		b.Run(name, func(b *testing.B) {
			target, _ := images.LookupTarget(name)
			dir := b.TempDir()
			out, err := moduleRootB()
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				res, err := images.Build(context.Background(), images.Options{
					Target: target, Version: "bench", Out: filepath.Join(dir, "box.img"),
					Programs:  []images.Program{{Pkg: "./images/testdata/probe", Dest: "/user/probe"}},
					ModuleDir: out, WorkDir: filepath.Join(dir, "work"),
					Log: slog.New(slog.DiscardHandler),
				})
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(res.RootBytes), "root-bytes")
			}
		})
	}
}
