package appliance

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/chatsecure/box/config"
	"github.com/chatsecure/box/tpm"
)

// openSealer picks the key sealer the config asks for. The image never falls
// back to the software sealer: no TPM is an error (→ state fault).
func openSealer(cfg config.Config, log *slog.Logger) (tpm.Sealer, error) {
	switch cfg.TPM.Mode {
	case "software":
		if !cfg.Dev {
			return nil, errors.New("software sealer refused outside dev mode")
		}
		return tpm.NewSoftware(filepath.Join(cfg.DataDir, dirSoftKey), log)
	case "none":
		return nil, fmt.Errorf("%w (tpm.mode is none)", tpm.ErrNoTPM)
	case "kernel", "auto":
		t, err := tpm.OpenDevice(cfg.TPM.Device)
		if err != nil {
			return nil, err
		}
		s, err := tpm.NewTPM2(t, tpm.TPM2Options{LockPCR: cfg.TPM.LockPCR, Logger: log})
		if err != nil {
			t.Close()
			return nil, err
		}
		return s, nil
	}
	return nil, fmt.Errorf("tpm.mode %q is not supported by this build", cfg.TPM.Mode)
}
