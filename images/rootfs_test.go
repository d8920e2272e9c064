package images

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func stageWith(t *testing.T, args map[string][]string, files map[string][]byte) (string, error) {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "boxd")
	if err := os.WriteFile(bin, []byte("\x7fELF"), 0o755); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	return dir, StageRoot(dir, RootFiles{
		Bins: map[string]string{"/user/boxd": bin}, Hostname: "box", Version: "v1",
		Args: args, Files: files,
	})
}

func TestStageRootArgsAndFiles(t *testing.T) {
	dir, err := stageWith(t,
		map[string][]string{"/user/boxd": {"-config", "/etc/box/test.json"}},
		map[string][]byte{"/etc/box/test.json": []byte(`{"xmpp":{"domain":"box.test"}}`)})
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "etc/boxinit/args/boxd"))
	if err != nil || string(got) != "-config\n/etc/box/test.json\n" {
		t.Fatalf("args file %q, %v", got, err)
	}
	cfg, err := os.ReadFile(filepath.Join(dir, "etc/box/test.json"))
	if err != nil || !strings.Contains(string(cfg), "box.test") {
		t.Fatalf("extra file %q, %v", cfg, err)
	}
}

func TestStageRootNoArgsNoFile(t *testing.T) {
	dir, err := stageWith(t, map[string][]string{"/user/boxd": nil}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "etc/boxinit")); !os.IsNotExist(err) {
		t.Fatalf("args directory exists for a program without arguments: %v", err)
	}
}

func TestStageRootRefuses(t *testing.T) {
	cases := map[string]struct {
		args  map[string][]string
		files map[string][]byte
		want  string
	}{
		"dev mode":        {args: map[string][]string{"/user/boxd": {"-dev"}}, want: "dev mode"},
		"unknown program": {args: map[string][]string{"/user/other": {"-x"}}, want: "not in the image"},
		"replaces a file": {files: map[string][]byte{"/etc/hostname": []byte("evil")}, want: "exists"},
		"replaces a bin":  {files: map[string][]byte{"/user/boxd": []byte("evil")}, want: "exists"},
		"relative path":   {files: map[string][]byte{"etc/x": nil}, want: "absolute"},
		"unclean path":    {files: map[string][]byte{"/etc/../x": nil}, want: "absolute"},
	}
	for name, c := range cases {
		if _, err := stageWith(t, c.args, c.files); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error with %q", name, err, c.want)
		}
	}
}
