package permfs_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/chatsecure/box/images/permfs"
	"github.com/chatsecure/box/images/permfs/permfstest"
)

// disk4GiB is the sparse disk of the benchmarks: an image flashed onto a
// 4 GiB card.
const disk4GiB = 4 << 30

// BenchmarkGrow4GiB measures what growing adds to a first boot on a 4 GiB
// disk: read and rewrite the GPT, check /perm is blank, sync.
func BenchmarkGrow4GiB(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		f := makeImage(b, disk4GiB-testLayout.DiskSectors()*512)
		b.StartTimer()
		if g, err := permfs.Grow(f, disk4GiB, 4, &permfstest.Resizer{}); err != nil || !g.Grown() {
			b.Fatalf("Grow = %+v, %v", g, err)
		}
	}
}

// BenchmarkFormat measures formatting the grown 4 GiB /perm, which is what
// growing really costs at first boot, against the image's 256 MiB.
func BenchmarkFormat(b *testing.B) {
	for _, n := range []int64{256 << 20, disk4GiB} {
		b.Run(fmt.Sprintf("%dMiB", n>>20), func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				p := filepath.Join(b.TempDir(), "perm")
				if err := os.WriteFile(p, nil, 0o644); err != nil {
					b.Fatal(err)
				}
				if err := os.Truncate(p, n); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				if ok, err := permfs.FormatIfBlank(p); err != nil || !ok {
					b.Fatalf("FormatIfBlank = %v, %v", ok, err)
				}
			}
		})
	}
}
