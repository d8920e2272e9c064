package appliance

import (
	"errors"
	"os"
	"path/filepath"
)

// Files the box keeps in its data directory. Everything with user data is
// inside the encrypted store; these are the key material around it.
const (
	fileSealed   = "key.sealed"   // database key sealed by the TPM (or dev sealer)
	fileRecovery = "key.recovery" // database key wrapped with the recovery code
	fileDB       = "box.db"       // SQLCipher store (+ -wal, -shm)
	fileReset    = "reset.pending"
	fileResetLog = "factory-reset.log" // when and by whom: no user data
	dirUploads   = "uploads"
	dirSoftKey   = "devkey" // software sealer's wrapping key (dev mode only)
)

func (s *System) path(name string) string { return filepath.Join(s.cfg.DataDir, name) }

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil || !errors.Is(err, os.ErrNotExist)
}
