package images

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chatsecure/box/config"
)

func TestPiBootFilesHaveSlotA(t *testing.T) {
	dir := t.TempDir()
	kernel, fw, eeprom := filepath.Join(dir, "k"), filepath.Join(dir, "fw"), filepath.Join(dir, "ee")
	for _, f := range []string{
		"k/vmlinuz", "k/bcm2711-rpi-4-b.dtb", "k/bcm2712-rpi-5-b.dtb", "k/bcm2710-rpi-3-b.dtb", "k/overlays/disable-bt.dtbo", "k/overlays/overlay_map.dtb",
		"fw/start4.elf", "fw/fixup4.dat", "fw/bootcode.bin",
		"ee/pieeprom-2026-01-01.bin", "ee/vl805-000138c0.bin", "ee/recovery.bin",
	} {
		os.MkdirAll(filepath.Join(dir, filepath.Dir(f)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, f), []byte(f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := ConfigTxt(piBase, config.Default().GPIO)
	if err != nil {
		t.Fatal(err)
	}
	files, err := bootFiles(Targets["pi"], bootSources{KernelDir: kernel, FirmwareDir: fw, EEPROMDir: eeprom}, []byte("root=x\n"), cfg)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]BootFile{}
	for _, f := range files {
		byName[f.Name] = f
	}
	for _, n := range []string{"vmlinuz", "cmdline.txt", "bcm2711-rpi-4-b.dtb", "bcm2712-rpi-5-b.dtb", "bcm2710-rpi-3-b.dtb", "overlays/disable-bt.dtbo", "overlays/overlay_map.dtb"} {
		root, ok1 := byName["/"+n]
		slot, ok2 := byName["/a/"+n]
		if !ok1 || !ok2 || root.Src != slot.Src || string(root.Data) != string(slot.Data) {
			t.Errorf("%s: root %v, slot a/ %v, or they differ", n, ok1, ok2)
		}
	}
	if _, ok := byName["/a/overlays/README"]; !ok {
		t.Error("a/overlays/README missing: the firmware would share the root overlays")
	}
	for _, n := range []string{"/a/start4.elf", "/a/config.txt", "/a/pieeprom.upd", "/b/vmlinuz", "/tryboot.txt"} {
		if _, ok := byName[n]; ok {
			t.Errorf("%s is in the image", n)
		}
	}
	c := string(byName["/config.txt"].Data)
	if p, err := OSPrefix(c); err != nil || p != SlotPrefixA {
		t.Errorf("config.txt selects %q, %v; want a/", p, err)
	}
	if len(c)%ConfigTxtBlock != 0 || !strings.Contains(c, "[pi4]\nos_prefix=a/\n[pi5]\nos_prefix=a/\n[all]\n") || !strings.Contains(c, "dtparam=spi=on\n") {
		t.Errorf("config.txt (%d bytes):\n%s", len(c), c)
	}
	for _, l := range strings.Split(c, "\n") {
		if len(l) >= 80 {
			t.Errorf("config.txt line of %d characters", len(l))
		}
	}
	if err := checkSlotRoom(files, 200<<10); err == nil {
		t.Error("checkSlotRoom accepted a 200 KiB boot partition")
	}
	if err := checkSlotRoom(files, DefaultLayoutFor(Targets["pi"]).BootBytes); err != nil {
		t.Error(err)
	}
	if DefaultLayoutFor(Targets["amd64"]) != DefaultLayout() {
		t.Error("amd64 layout changed")
	}
}

func TestSetOSPrefix(t *testing.T) {
	c := withSlots("kernel=vmlinuz\n")
	b, err := SetOSPrefix(c, SlotPrefixB)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != len(c) || strings.Count(b, "os_prefix=b/\n") != 2 || strings.Contains(b, "os_prefix=a/") {
		t.Fatalf("SetOSPrefix(b/):\n%s", b)
	}
	if p, _ := OSPrefix(b); p != SlotPrefixB {
		t.Errorf("OSPrefix = %q", p)
	}
	for _, bad := range []string{"kernel=vmlinuz\n", "os_prefix=a/\nos_prefix=b/\n", "os_prefix=upstream/\n", "[pi4]\nos_prefix=a/\nos_prefix=../\n"} {
		if p, err := OSPrefix(bad); err == nil {
			t.Errorf("OSPrefix(%q) = %q", bad, p)
		}
		if _, err := SetOSPrefix(bad, SlotPrefixA); err == nil {
			t.Errorf("SetOSPrefix(%q) accepted", bad)
		}
	}
	if _, err := SetOSPrefix(c, "c/"); err == nil {
		t.Error("SetOSPrefix(c/) accepted")
	}
}

func TestPadConfigTxt(t *testing.T) {
	for n := range 1100 {
		s := strings.Repeat("x", n)
		p := PadConfigTxt(s)
		if len(p)%ConfigTxtBlock != 0 || !strings.HasPrefix(p, s) || len(p) < n+1 {
			t.Fatalf("PadConfigTxt(%d bytes) = %d bytes", n, len(p))
		}
		for _, l := range strings.Split(p[n+1:], "\n") {
			if l != "" && !strings.HasPrefix(l, "#") || len(l) >= 80 {
				t.Fatalf("padding line %q after %d bytes", l, n)
			}
		}
	}
}

func FuzzOSPrefix(f *testing.F) {
	f.Add(withSlots("kernel=vmlinuz\n"))
	f.Add("os_prefix=a/\n[pi5]\nos_prefix=b/\n")
	f.Add(" os_prefix=b/ \r\n")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := OSPrefix(s)
		if err != nil {
			return
		}
		other := SlotPrefixA
		if p == SlotPrefixA {
			other = SlotPrefixB
		}
		out, err := SetOSPrefix(s, other)
		if err != nil || len(out) != len(s) {
			t.Fatalf("SetOSPrefix after OSPrefix=%q: %v, %d→%d bytes", p, err, len(s), len(out))
		}
		if q, err := OSPrefix(out); err != nil || q != other {
			t.Fatalf("OSPrefix after SetOSPrefix(%q) = %q, %v", other, q, err)
		}
	})
}
