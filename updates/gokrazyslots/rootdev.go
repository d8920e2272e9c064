package gokrazyslots

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// OnGokrazy reports whether this process runs on a gokrazy root file
// system (the image's init is /gokrazy/init).
func OnGokrazy() bool {
	fi, err := os.Stat("/gokrazy/init")
	return err == nil && fi.Mode().IsRegular()
}

// Device finds the disk the running root was mounted from, through sysfs:
// the partition device nodes of that disk, and a Booted func that reports
// the partition mounted at / now. Unlike gokrazy's rootdev (which reads
// /proc/cmdline) this is right in a trial boot too, where init pivoted to
// the other root after the kernel mounted the one root= names.
func Device() (DevDisk, func() (int, error), error) {
	booted := func() (int, error) {
		_, part, err := rootDisk("/sys", "/", "/dev")
		return part, err
	}
	disk, _, err := rootDisk("/sys", "/", "/dev")
	if err != nil {
		return nil, nil, err
	}
	return disk, booted, nil
}

// rootDisk maps the device of the file system at root to its disk and
// partition number via sys/dev/block/MAJ:MIN.
func rootDisk(sys, root, dev string) (DevDisk, int, error) {
	var st unix.Stat_t
	if err := unix.Stat(root, &st); err != nil {
		return nil, 0, fmt.Errorf("gokrazyslots: stat %s: %w", root, err)
	}
	return diskOf(sys, dev, unix.Major(uint64(st.Dev)), unix.Minor(uint64(st.Dev)))
}

// diskOf resolves a block device number to its disk's partitions.
func diskOf(sys, dev string, major, minor uint32) (DevDisk, int, error) {
	link := filepath.Join(sys, "dev", "block", fmt.Sprintf("%d:%d", major, minor))
	partDir, err := filepath.EvalSymlinks(link)
	if err != nil {
		return nil, 0, fmt.Errorf("gokrazyslots: root device %d:%d: %w", major, minor, err)
	}
	part, err := readPartNum(partDir)
	if err != nil {
		return nil, 0, fmt.Errorf("gokrazyslots: root device %d:%d is not a partition: %w", major, minor, err)
	}
	diskDir := filepath.Dir(partDir)
	ents, err := os.ReadDir(diskDir)
	if err != nil {
		return nil, 0, fmt.Errorf("gokrazyslots: %w", err)
	}
	disk := DevDisk{}
	for _, e := range ents {
		n, err := readPartNum(filepath.Join(diskDir, e.Name()))
		if err != nil {
			continue // not a partition (queue/, holders/, files)
		}
		disk[n] = filepath.Join(dev, e.Name())
	}
	for _, n := range []int{partBoot, partA, partB} {
		if _, ok := disk[n]; !ok {
			return nil, 0, fmt.Errorf("gokrazyslots: disk %s has no partition %d", filepath.Base(diskDir), n)
		}
	}
	return disk, part, nil
}

func readPartNum(dir string) (int, error) {
	b, err := os.ReadFile(filepath.Join(dir, "partition"))
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}
