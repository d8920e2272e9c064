package appliance

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/chatsecure/box/config/atomicfile"
)

// FactoryReset erases the box: crypto-erase first (the sealed key destroyed,
// its blob and the recovery envelope overwritten), then the database and
// uploads removed, then back to unclaimed with a new key and setup code.
//
// A marker file written before anything is destroyed makes a power cut safe:
// a boot that finds it finishes the erase before it can read anything, so the
// box is either the old one (no marker yet) or an erased one.
func (s *System) FactoryReset(ctx context.Context, who, origin string) error {
	// An update the console started is stopped first (its end is audited
	// under s.mu, so not while we hold it).
	s.stopUpdateApplies()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.store != nil {
		// Audited before it starts. The entry is erased with the rest;
		// factory-reset.log keeps the fact (no user data).
		s.Audit(ctx, who, origin, "factory-reset", "started")
	}
	line := fmt.Sprintf("%s factory reset by %s from %s\n", time.Now().UTC().Format(time.RFC3339), who, origin)
	appendLine(s.path(fileResetLog), line)
	s.log.Warn("factory reset", "who", who, "origin", origin)

	powerCut("before-marker")
	if err := atomicfile.WriteFile(s.path(fileReset), []byte(line), 0o600); err != nil {
		return fmt.Errorf("factory reset: %w", err)
	}
	s.setState(StateFactoryReset, "erasing")
	s.stopServices()
	if err := s.closeStore(); err != nil {
		s.log.Warn("closing store before erase", "err", err)
	}
	if err := s.erase(); err != nil {
		s.setState(StateFault, err.Error())
		return err
	}
	st, code, err := s.firstStart(ctx)
	if err != nil {
		s.setState(StateFault, err.Error())
		return fmt.Errorf("factory reset: new key: %w", err)
	}
	s.firstRun = code
	s.opened(ctx, st)
	return nil
}

// erase does the destroying steps in order; each is idempotent so an
// interrupted erase can simply run again. s.mu held.
func (s *System) erase() error {
	powerCut("marker-written")
	// 1. Crypto-erase: the TPM forgets the key object...
	if blob, err := os.ReadFile(s.path(fileSealed)); err == nil && len(blob) > 0 && s.sealer != nil {
		if err := s.sealer.Destroy(blob); err != nil {
			s.log.Warn("sealer could not destroy the key object (blob overwritten anyway)", "err", err)
		}
	}
	powerCut("key-destroyed")
	// ...and both wrapped copies of the key are overwritten in place.
	for _, name := range []string{fileSealed, fileRecovery} {
		if err := overwrite(s.path(name)); err != nil {
			return fmt.Errorf("factory reset: %w", err)
		}
		powerCut("overwrote-" + name)
	}
	// 2. The ciphertext goes too (unreadable already; this frees the space).
	for _, name := range []string{fileDB, fileDB + "-wal", fileDB + "-shm", fileSealed, fileRecovery} {
		if err := os.Remove(s.path(name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("factory reset: %w", err)
		}
		powerCut("removed-" + name)
	}
	if err := os.RemoveAll(s.path(dirUploads)); err != nil {
		return fmt.Errorf("factory reset: %w", err)
	}
	if err := atomicfile.SyncDir(s.cfg.DataDir); err != nil {
		return fmt.Errorf("factory reset: %w", err)
	}
	powerCut("data-removed")
	// 3. Done: the marker goes last.
	if err := os.Remove(s.path(fileReset)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("factory reset: %w", err)
	}
	if err := atomicfile.SyncDir(s.cfg.DataDir); err != nil {
		return fmt.Errorf("factory reset: %w", err)
	}
	s.log.Warn("factory reset: key destroyed, data removed")
	return nil
}

// overwrite fills a file with random bytes of its own length and fsyncs it,
// so the old bytes are not left in the blocks the file had.
func overwrite(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	junk := make([]byte, fi.Size())
	rand.Read(junk)
	if _, err := f.WriteAt(junk, 0); err != nil {
		return fmt.Errorf("overwrite %s: %w", filepath.Base(path), err)
	}
	return f.Sync()
}

func appendLine(path, line string) {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return
	}
	f.WriteString(line)
	f.Sync()
	f.Close()
}

// powerCut is a test hook: the crash test makes it panic at a named step to
// stand for the power going off there.
var powerCut = func(step string) {}
