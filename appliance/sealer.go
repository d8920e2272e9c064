package appliance

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"runtime"

	"github.com/chatsecure/box/config"
	"github.com/chatsecure/box/tpm"
	"github.com/chatsecure/box/tpm/tis"
	"github.com/google/go-tpm/tpm2/transport"
)

// openSealer picks the key sealer the config asks for. The image never falls
// back to the software sealer: no TPM is an error (→ state fault, "no TPM").
func openSealer(cfg config.Config, log *slog.Logger) (tpm.Sealer, error) {
	if cfg.TPM.Mode == "software" {
		if !cfg.Dev {
			return nil, errors.New("software sealer refused outside dev mode")
		}
		sw, err := tpm.NewSoftware(filepath.Join(cfg.DataDir, dirSoftKey), log)
		if err != nil {
			return nil, err
		}
		return namedSoftware{sw}, nil
	}
	t, how, err := openTPM(cfg.TPM)
	if err != nil {
		return nil, err
	}
	s, err := tpm.NewTPM2(t, tpm.TPM2Options{LockPCR: cfg.TPM.LockPCR, Logger: log})
	if err != nil {
		t.Close()
		return nil, err
	}
	log.Info("TPM", "via", how)
	return namedSealer{s, "TPM 2.0 via " + how}, nil
}

// openTPM finds the TPM's transport: the kernel's resource manager when a
// kernel driver exists (it must be preferred: it owns the hardware), else our
// own TIS driver over MMIO (PC, qemu) or SPI (Pi).
func openTPM(c config.TPM) (transport.TPMCloser, string, error) {
	kernel := func() (transport.TPMCloser, string, error) {
		t, err := tpm.OpenDevice(c.Device)
		return t, c.Device, err
	}
	user := func(mode string) (transport.TPMCloser, string, error) {
		t, err := tis.Open(mode, tis.Options{KernelDevice: c.Device})
		if errors.Is(err, tis.ErrKernelDriver) {
			return kernel()
		}
		if err != nil {
			return nil, "", fmt.Errorf("%w: %w", tpm.ErrNoTPM, err)
		}
		return t, "TIS " + mode, nil
	}
	switch c.Mode {
	case "kernel":
		return kernel()
	case "mmio", "spi":
		return user(c.Mode)
	case "auto":
		if t, how, err := kernel(); err == nil {
			return t, how, nil
		}
		if runtime.GOARCH == "arm64" {
			return user("spi")
		}
		return user("mmio")
	case "none":
		return nil, "", fmt.Errorf("%w (tpm.mode is none)", tpm.ErrNoTPM)
	}
	return nil, "", fmt.Errorf("tpm.mode %q is not supported", c.Mode)
}

// namedSealer labels the sealer in the health report.
type namedSealer struct {
	*tpm.TPM2
	name string
}

func (n namedSealer) Name() string { return n.name }

type namedSoftware struct{ *tpm.Software }

func (namedSoftware) Name() string { return "software sealer (dev mode only, not a TPM)" }
