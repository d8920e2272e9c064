package appliance

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/chatsecure/box/config"
	"github.com/chatsecure/box/gpio"
)

// Version is set at build time (-ldflags -X).
var Version = "dev"

// DefaultDataDir is where boxd and boxctl look without -data.
func DefaultDataDir(dev bool) string {
	if dev {
		return config.Dev().DataDir
	}
	return config.Default().DataDir
}

// Main is boxd: flags, logger, config, sealer, then System.Run until SIGTERM.
func Main(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("boxd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dev := fs.Bool("dev", false, "dev mode: data under ./var/dev, software key sealer, fake GPIO, self-signed TLS, domain localhost")
	dataDir := fs.String("data", "", "data directory (default /perm/box, or ./var/dev with -dev)")
	configFile := fs.String("config", "", "config file (default DATA/config.json)")
	pprofAddr := fs.String("pprof", "", "serve net/http/pprof on this loopback address (e.g. 127.0.0.1:6060), for profiling under load")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	syscall.Umask(0o077) // everything boxd writes is the owner's alone

	base := config.Default()
	if *dev {
		base = config.Dev()
	}
	if *dataDir == "" {
		*dataDir = base.DataDir
	}
	if *configFile == "" {
		*configFile = filepath.Join(*dataDir, config.FileName)
	}
	ring := NewLogRing(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}), 2000)
	log := slog.New(ring)

	cfg, cfgErr := config.Load(*configFile, base)
	cfg.DataDir = *dataDir // the flag decides where the data is, not the file
	cfg.Dev = *dev         // and a file cannot switch dev mode on
	if cfgErr == nil {
		cfgErr = cfg.Validate()
	}
	if cfgErr != nil {
		log.Error("configuration is invalid; staying in fault", "file", *configFile, "err", cfgErr)
	}
	if abs, err := filepath.Abs(cfg.DataDir); err == nil {
		cfg.DataDir = abs
	}

	var sealerErr error
	sys := Options{
		Config:    cfg,
		ConfigErr: cfgErr,
		Logger:    log,
		Version:   Version,
		Console:   stderr,
		LogRing:   ring,
		Services:  serviceFactories(),
	}
	if cfgErr == nil {
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			fmt.Fprintf(stderr, "boxd: %v\n", err)
			return 1
		}
		sys.Sealer, sealerErr = openSealer(cfg, log)
		sys.SealerErr = sealerErr
	}
	if *dev {
		printDevBanner(stderr, cfg, *configFile)
	}
	if *pprofAddr != "" {
		if err := servePprof(*pprofAddr, log); err != nil {
			fmt.Fprintf(stderr, "boxd: %v\n", err)
			return 2
		}
	}
	if !*dev {
		sys.Reboot = rebootMachine
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	tuneGC(ctx, log)
	box := New(sys)
	if cfgErr == nil {
		gdev, err := gpio.Open(cfg.GPIO, gpio.Options{OnEvent: box.ButtonEvent, Logger: log})
		if err != nil {
			log.Warn("no status LED or reset button on this hardware", "err", err)
		} else {
			defer gdev.Close()
		}
		box.AttachGPIO(gdev, err)
	}
	if err := box.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		log.Error("boxd stopped", "err", err)
		return 1
	}
	return 0
}

func printDevBanner(w io.Writer, cfg config.Config, configFile string) {
	fmt.Fprintf(w, `
ChatSecure Box %s — DEV MODE (not for real data: the key is sealed in software)
  data:     %s
  config:   %s (embedded dev defaults where absent)
  admin:    boxctl -dev status   (socket %s)
  xmpp:     %s (STARTTLS), %s (direct TLS), domain %s
  console:  https://%s/
`, Version, cfg.DataDir, configFile, filepath.Join(cfg.DataDir, "boxd.sock"),
		cfg.XMPP.C2S, cfg.XMPP.C2STLS, cfg.XMPP.Domain, cfg.Console.Listen)
}

// rebootMachine flushes the file systems and restarts (the image's init,
// gokrazy, is PID 1; boxd runs as root there).
func rebootMachine() error {
	syscall.Sync()
	return syscall.Reboot(syscall.LINUX_REBOOT_CMD_RESTART)
}
