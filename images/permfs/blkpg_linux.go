package permfs

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// BLKPG tells the kernel a partition's new extent with the BLKPG ioctl
// (BLKPG_RESIZE_PARTITION) on the whole-disk device. Unlike BLKRRPART it
// works while other partitions of the disk are mounted; the kernel only
// insists that the start stays and the partition overlaps no other.
type BLKPG struct {
	Disk *os.File
}

// ResizePartition implements Resizer.
func (b BLKPG) ResizePartition(number int, start, length int64) error {
	p := unix.BlkpgPartition{Start: start, Length: length, Pno: int32(number)}
	arg := unix.BlkpgIoctlArg{
		Op:      unix.BLKPG_RESIZE_PARTITION,
		Datalen: int32(unsafe.Sizeof(p)),
		Data:    (*byte)(unsafe.Pointer(&p)),
	}
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, b.Disk.Fd(), unix.BLKPG, uintptr(unsafe.Pointer(&arg)))
	runtime.KeepAlive(&p)
	runtime.KeepAlive(&arg)
	if errno != 0 {
		return fmt.Errorf("permfs: BLKPG resize partition %d: %w", number, errno)
	}
	return nil
}

// GrowDevice grows partition number of the whole-disk device at disk to the
// disk's end (see Grow) and tells the kernel through BLKPG.
func GrowDevice(disk string, number int) (Growth, error) {
	f, err := os.OpenFile(disk, os.O_RDWR, 0)
	if err != nil {
		return Growth{}, fmt.Errorf("permfs: grow: %w", err)
	}
	defer f.Close()
	// Seeking to the end gives the size of block devices, where Stat says 0.
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return Growth{}, fmt.Errorf("permfs: grow: size of %s: %w", disk, err)
	}
	return Grow(f, size, number, BLKPG{Disk: f})
}
