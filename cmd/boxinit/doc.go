// Command boxinit is the init process (/gokrazy/init) of the box's image.
//
// It does what gokrazy's generated init does — gokrazy.Boot, then supervise
// every program of the image — plus two things the box needs before any
// service starts: /perm grown to the end of the disk and formatted ext4 on
// first boot if the partition is blank, and the wall clock moved forward
// to the last time saved under /perm (the Pi has no RTC). A program's
// arguments come from the image, as
// package images/progargs writes them. gokrazy's HTTP server stays on its
// unix socket: the image has no /etc/gokr-pw.txt (see images.StageRoot).
//
// Two safety nets for updates run here, outside boxd: the hardware
// watchdog is fed from this process (watchdog.go), and a trial boot of an
// update that is not committed within -trial-deadline (default 5m) is
// rebooted into the old root (trial.go), however boxd fares. boxinit's
// own arguments come from progargs.Path("/gokrazy/init"), read after the
// pivot into a trial root, so the trial's image decides them:
//
//	-trial-deadline D   how long a trial boot may run uncommitted
//	-slots-dir DIR      boxd's slot state directory, where boxinit leaves
//	                    a note saying why it rebooted (gokrazyslots.DeadlineNote)
package main
