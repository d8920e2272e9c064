package appliance

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/chatsecure/box/config/atomicfile"
	"github.com/chatsecure/box/services/store"
	"github.com/chatsecure/box/tpm"
	"github.com/chatsecure/box/tpm/recovery"
)

// errLocked carries the reason the box must wait for its recovery code.
type errLocked struct{ reason string }

func (e *errLocked) Error() string { return e.reason }

// firstStart makes the database key, wraps it with a fresh recovery code,
// seals it, and creates the store. It runs only when no database exists, so
// it can never overwrite data. The files are written envelope first, sealed
// blob second, database last: a crash before the database exists just means
// another first start.
func (s *System) firstStart(ctx context.Context) (*store.Store, string, error) {
	key := make([]byte, store.KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, "", fmt.Errorf("key: %w", err)
	}
	code, err := recovery.NewCode()
	if err != nil {
		return nil, "", err
	}
	env, err := recovery.Wrap(key, code, s.recoveryParams)
	if err != nil {
		return nil, "", err
	}
	if err := atomicfile.WriteFile(s.path(fileRecovery), env, 0o600); err != nil {
		return nil, "", err
	}
	blob, err := s.sealer.Seal(key)
	if err != nil {
		return nil, "", fmt.Errorf("seal key: %w", err)
	}
	if err := atomicfile.WriteFile(s.path(fileSealed), blob, 0o600); err != nil {
		return nil, "", err
	}
	st, err := store.Create(ctx, s.path(fileDB), key)
	if err != nil {
		return nil, "", err
	}
	return st, code, nil
}

// openWithSealedKey unseals the key and opens the store. Any failure that the
// recovery code can fix is an *errLocked; tpm.ErrNoTPM passes through.
func (s *System) openWithSealedKey(ctx context.Context) (*store.Store, error) {
	blob, err := os.ReadFile(s.path(fileSealed))
	if errors.Is(err, os.ErrNotExist) || (err == nil && len(blob) == 0) {
		return nil, &errLocked{"sealed key is missing: enter the recovery code (boxctl unlock)"}
	}
	if err != nil {
		return nil, fmt.Errorf("read sealed key: %w", err)
	}
	start := time.Now()
	key, err := s.sealer.Unseal(blob)
	if errors.Is(err, tpm.ErrNoTPM) {
		return nil, err
	}
	if err != nil {
		s.log.Warn("unseal failed", "err", err)
		if l, ok := s.sealer.(interface{ LockedThisBoot() (bool, error) }); ok {
			if locked, lerr := l.LockedThisBoot(); lerr == nil && locked {
				// Not a new TPM: an earlier boxd on this boot already
				// unsealed and locked. A reboot opens it; no code needed.
				return nil, &errLocked{"the key was already unsealed on this boot (boxd restarted): reboot the box to open it, or enter the recovery code"}
			}
		}
		return nil, &errLocked{fmt.Sprintf("cannot unseal the key (%v): TPM cleared or replaced? enter the recovery code (boxctl unlock)", err)}
	}
	s.log.Info("key unsealed", "took", time.Since(start).Round(time.Microsecond))
	st, err := store.Open(ctx, s.path(fileDB), key)
	clear(key)
	if errors.Is(err, store.ErrWrongKey) {
		return nil, &errLocked{"the sealed key does not open the database: enter the recovery code (boxctl unlock)"}
	}
	if err != nil {
		return nil, err
	}
	return st, nil
}

// openWithRecoveryCode opens the store with the key from the recovery
// envelope and re-seals that key to the current TPM, so the next boot opens
// without the code.
func (s *System) openWithRecoveryCode(ctx context.Context, code string) (*store.Store, error) {
	env, err := os.ReadFile(s.path(fileRecovery))
	if err != nil {
		return nil, fmt.Errorf("read recovery envelope: %w", err)
	}
	key, err := recovery.Unwrap(env, code)
	if err != nil {
		return nil, err
	}
	defer clear(key)
	st, err := store.Open(ctx, s.path(fileDB), key)
	if err != nil {
		return nil, err
	}
	blob, err := s.sealer.Seal(key)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("re-seal key: %w", err)
	}
	if err := atomicfile.WriteFile(s.path(fileSealed), blob, 0o600); err != nil {
		st.Close()
		return nil, err
	}
	s.log.Info("key re-sealed to this box's TPM after recovery")
	return st, nil
}
