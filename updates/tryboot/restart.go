package tryboot

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A Restarter restarts the machine. arg "" is a plain restart; otherwise
// arg goes to the kernel as reboot(2)'s LINUX_REBOOT_CMD_RESTART2 command,
// which the Raspberry Pi firmware driver reads: "0 tryboot" sets the
// firmware's one-shot tryboot flag (partition 0, the default).
type Restarter interface {
	Restart(arg string) error
}

// TrybootArg is the reboot command that boots tryboot.txt once.
const TrybootArg = "0 tryboot"

// SysRestarter restarts through reboot(2) after a sync. It does not
// return on success.
type SysRestarter struct{}

// Restart syncs the file systems and restarts with arg.
func (SysRestarter) Restart(arg string) error {
	unix.Sync()
	if arg == "" {
		if err := unix.Reboot(unix.LINUX_REBOOT_CMD_RESTART); err != nil {
			return fmt.Errorf("tryboot: reboot: %w", err)
		}
		return nil
	}
	// x/sys/unix has no RESTART2 with an argument; the raw call is
	// reboot(MAGIC1, MAGIC2, RESTART2, arg).
	p, err := unix.BytePtrFromString(arg)
	if err != nil {
		return fmt.Errorf("tryboot: reboot %q: %w", arg, err)
	}
	_, _, errno := unix.Syscall6(unix.SYS_REBOOT, unix.LINUX_REBOOT_MAGIC1, unix.LINUX_REBOOT_MAGIC2,
		unix.LINUX_REBOOT_CMD_RESTART2, uintptr(unsafe.Pointer(p)), 0, 0)
	if errno != 0 {
		return fmt.Errorf("tryboot: reboot %q: %w", arg, errno)
	}
	return nil
}
