package gokrazyslots

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/chatsecure/box/config/atomicfile"
)

// DeadlineNote is the file, in the state directory, where cmd/boxinit says
// why it rebooted a trial (its deadline passed with the trial
// uncommitted). boxd is hung or failing at that moment and cannot record
// anything; the next boot's Boot reads the note into the fallback's
// history record and removes it.
const DeadlineNote = "deadline-reboot.txt"

// maxNote bounds what Boot reads back.
const maxNote = 512

// WriteDeadlineNote leaves why for the next boot (atomically; one line).
func WriteDeadlineNote(dir, why string) error {
	why = strings.Join(strings.Fields(why), " ")
	if len(why) > maxNote {
		why = why[:maxNote]
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("gokrazyslots: deadline note: %w", err)
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, DeadlineNote), []byte(why+"\n"), 0o644); err != nil {
		return fmt.Errorf("gokrazyslots: deadline note: %w", err)
	}
	return nil
}

// TakeDeadlineNote reads and removes the note in dir; "" when there is
// none. Both slot drivers (this one and updates/tryboot) call it from Boot.
func TakeDeadlineNote(dir string) string {
	p := filepath.Join(dir, DeadlineNote)
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return ""
	}
	os.Remove(p)
	if err != nil {
		return "the note of boxinit's deadline reboot is unreadable: " + err.Error()
	}
	if len(b) > maxNote {
		b = b[:maxNote]
	}
	return strings.Join(strings.Fields(string(b)), " ")
}
