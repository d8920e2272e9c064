package main

import (
	"errors"
	"log/slog"
	"os"
	"syscall"
	"time"

	"github.com/mdlayher/watchdog"
)

// feedWatchdog makes sure the hardware watchdog (/dev/watchdog: i6300esb
// in qemu, bcm2835-wdt on the Pi) is fed from this process, so a hung
// kernel or a stuck init resets the box. gokrazy.Boot already starts a
// goroutine that opens and pings it; the device opens only once, so EBUSY
// here means gokrazy feeds it. gokrazy's goroutine races the mount of /dev
// and gives up silently if it loses (or if the driver came up late): then
// the open here succeeds and boxinit feeds it itself. The device is never
// closed: a magic close would disarm it.
func feedWatchdog(log *slog.Logger) {
	d, err := watchdog.Open()
	switch {
	case errors.Is(err, syscall.EBUSY):
		log.Info("hardware watchdog fed by gokrazy's init code in this process")
		return
	case errors.Is(err, os.ErrNotExist):
		log.Warn("no hardware watchdog: a kernel hang will not reset the box")
		return
	case err != nil:
		log.Warn("hardware watchdog unusable", "err", err)
		return
	}
	timeout, err := d.Timeout()
	if err != nil || timeout <= 0 {
		timeout = 10 * time.Second // the shortest common default
	}
	every := max(timeout/4, time.Second)
	log.Info("feeding the hardware watchdog", "device", d.Identity, "timeout", timeout, "every", every)
	go func() {
		for {
			if err := d.Ping(); err != nil {
				log.Warn("hardware watchdog ping failed", "err", err)
			}
			time.Sleep(every)
		}
	}()
}
