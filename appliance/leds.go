package appliance

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/chatsecure/box/appliance/adminapi"
	"github.com/chatsecure/box/gpio"
)

// signalFor is the LED pattern of each state.
func signalFor(s State) gpio.Signal {
	switch s {
	case StateUnclaimed:
		return gpio.Unclaimed
	case StateLocked:
		return gpio.Locked
	case StateFault:
		return gpio.Fault
	case StateRunning:
		return gpio.Running
	case StateUpdating:
		return gpio.Updating
	case StateFactoryReset:
		return gpio.Erasing
	}
	return gpio.Booting
}

// AttachGPIO gives the System its LED and button (before Run). A box
// without them still works; health says so.
func (s *System) AttachGPIO(dev *gpio.Devices, err error) {
	s.gpio, s.gpioErr = dev, err
	if dev != nil {
		state, _ := s.State()
		dev.LED.Show(signalFor(state))
	}
}

func (s *System) showState(state State) {
	if s.gpio != nil {
		if err := s.gpio.LED.Show(signalFor(state)); err != nil {
			s.log.Warn("LED", "err", err)
		}
	}
}

// ButtonEvent acts on a gesture on the reset button. It runs on the
// button's goroutine and must return quickly: slow work goes on its own.
func (s *System) ButtonEvent(e gpio.Event) {
	s.log.Info("button", "event", e.Kind, "held", e.Held.Round(time.Millisecond), "reason", e.Reason)
	if s.gpio == nil {
		return
	}
	led := s.gpio.LED
	switch e.Kind {
	case gpio.EventIdentify:
		led.Show(gpio.Identify)
	case gpio.EventReboot:
		go func() {
			if err := s.Reboot(context.Background(), "button", "local"); err != nil {
				s.log.Error("reboot", "err", err)
			}
		}()
	case gpio.EventResetArmed:
		led.Show(gpio.ResetArmed)
	case gpio.EventResetConfirmed:
		led.Show(gpio.Erasing)
		go func() {
			if err := s.FactoryReset(context.Background(), "button", "local"); err != nil {
				s.log.Error("factory reset", "err", err)
			}
		}()
	case gpio.EventResetCancelled:
		state, _ := s.State()
		led.Show(signalFor(state))
	}
}

// Reboot stops the services, closes the store and asks the system to
// reboot (in dev mode: only logs, the laptop stays up).
func (s *System) Reboot(ctx context.Context, who, origin string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.store != nil {
		s.Audit(ctx, who, origin, "reboot", "")
	}
	if s.reboot == nil {
		s.log.Warn("reboot requested; dev mode does not reboot the machine", "who", who)
		return nil
	}
	s.log.Warn("rebooting", "who", who, "origin", origin)
	s.stopServices()
	if err := s.closeStore(); err != nil {
		s.log.Error("closing store before reboot", "err", err)
	}
	return s.reboot()
}

func (s *System) handleButton(w http.ResponseWriter, r *http.Request) {
	var req adminapi.ButtonRequest
	if err := adminapi.ReadJSON(r, &req); err != nil {
		adminapi.WriteError(w, http.StatusBadRequest, err)
		return
	}
	if s.gpio == nil || s.gpio.FakeButton == nil {
		adminapi.WriteError(w, http.StatusConflict, errors.New("this box has a real button (only dev mode has the fake one)"))
		return
	}
	var hold time.Duration
	if req.Hold != "" {
		d, err := time.ParseDuration(req.Hold)
		if err != nil || d < 0 || d > time.Minute {
			adminapi.WriteError(w, http.StatusBadRequest, fmt.Errorf("hold %q: want a duration up to 1m", req.Hold))
			return
		}
		hold = d
	}
	if err := s.gpio.FakeButton.Press(r.Context(), hold); err != nil {
		adminapi.WriteError(w, http.StatusConflict, err)
		return
	}
	adminapi.WriteJSON(w, http.StatusOK, map[string]string{"led": string(s.gpio.LED.Current())})
}
