package images

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"

	// The kernel and firmware modules hold data only; importing their empty
	// packages pins their versions in go.mod and go.sum.
	_ "github.com/gokrazy/firmware"
	_ "github.com/gokrazy/kernel.amd64"
	_ "github.com/gokrazy/kernel.rpi"
	_ "github.com/gokrazy/rpi-eeprom"
)

// ModuleDir returns the module cache directory of module path at the version
// go.mod pins, downloading it if needed. dir is the main module's directory.
func ModuleDir(ctx context.Context, goTool, dir, path string) (string, error) {
	var m struct{ Dir, Version string }
	for _, args := range [][]string{{"list", "-m", "-json", path}, {"mod", "download", "-json", path}} {
		cmd := exec.CommandContext(ctx, goTool, args...)
		cmd.Dir = dir
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return "", fmt.Errorf("images: go %v: %w: %s", args, err, stderr.Bytes())
		}
		if err := json.Unmarshal(out, &m); err != nil {
			return "", fmt.Errorf("images: go %v: %w", args, err)
		}
		if m.Dir != "" {
			return m.Dir, nil
		}
	}
	return "", fmt.Errorf("images: module %s has no directory after download", path)
}
