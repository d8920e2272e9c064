package services_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoServiceImportsAppliance keeps the dependency arrow one way: the
// appliance wires services, services never reach back into it.
func TestNoServiceImportsAppliance(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-test", "-f", "{{.ImportPath}}: {{join .Deps \" \"}}", "github.com/chatsecure/box/services/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	checked := 0
	for _, line := range lines {
		pkg, deps, _ := strings.Cut(line, ": ")
		if !strings.HasPrefix(pkg, "github.com/chatsecure/box/services") {
			continue
		}
		checked++
		for _, d := range strings.Fields(deps) {
			if d == "github.com/chatsecure/box/appliance" || strings.HasPrefix(d, "github.com/chatsecure/box/appliance/") {
				t.Errorf("%s imports %s", pkg, d)
			}
		}
	}
	if checked < 2 {
		t.Fatalf("checked only %d packages: go list output was %q", checked, out)
	}
}
