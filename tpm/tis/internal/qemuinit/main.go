package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
	"golang.org/x/sys/unix"

	"github.com/chatsecure/box/tpm/tis"
)

func main() {
	for _, m := range []struct{ src, dst, fs string }{
		{"dev", "/dev", "devtmpfs"}, {"sys", "/sys", "sysfs"}, {"proc", "/proc", "proc"},
	} {
		os.MkdirAll(m.dst, 0o755)
		if err := unix.Mount(m.src, m.dst, m.fs, 0, ""); err != nil && !errors.Is(err, unix.EBUSY) {
			fmt.Printf("TIS-FAIL: mount %s: %v\n", m.dst, err)
		}
	}
	if err := run(); err != nil {
		fmt.Printf("TIS-FAIL: %v\n", err)
	} else {
		fmt.Println("TIS-DONE")
	}
	unix.Sync()
	if os.Getpid() == 1 {
		unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF)
	}
}

// timed runs f n times and reports the mean duration.
func timed(name string, n int, f func() error) error {
	start := time.Now()
	for range n {
		if err := f(); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	fmt.Printf("TIS-OK %s: %v per call (%d calls)\n", name, time.Since(start)/time.Duration(n), n)
	return nil
}

func run() error {
	if tab, err := tis.CheckTIS(tis.DefaultACPITable); err == nil {
		fmt.Printf("TIS-OK ACPI TPM2: rev %d oem %q start method %d (%s)\n",
			tab.Revision, tab.OEMID, tab.StartMethod, tis.StartMethodName(tab.StartMethod))
	}
	var tpm *tis.TPM
	if err := timed("open", 1, func() (err error) {
		tpm, err = tis.Open("mmio", tis.Options{})
		return err
	}); err != nil {
		return err
	}
	defer tpm.Close()
	fmt.Printf("TIS-OK DID_VID: vendor %#04x device %#04x\n", tpm.VendorID(), tpm.DeviceID())
	if _, err := tis.Open("mmio", tis.Options{}); err == nil {
		return errors.New("a second Open got the TPM while the first holds it")
	} else {
		fmt.Printf("TIS-OK second owner refused: %v\n", err)
	}

	var rnd []byte
	if err := timed("GetRandom(32)", 20, func() error {
		rsp, err := tpm2.GetRandom{BytesRequested: 32}.Execute(tpm)
		if err == nil {
			if bytes.Equal(rsp.RandomBytes.Buffer, rnd) {
				return errors.New("same random bytes twice")
			}
			rnd = rsp.RandomBytes.Buffer
		}
		return err
	}); err != nil {
		return err
	}

	var srk *tpm2.CreatePrimaryResponse
	if err := timed("CreatePrimary(ECC P-256 SRK)", 1, func() (err error) {
		srk, err = tpm2.CreatePrimary{PrimaryHandle: tpm2.TPMRHOwner, InPublic: tpm2.New2B(tpm2.ECCSRKTemplate)}.Execute(tpm)
		return err
	}); err != nil {
		return err
	}
	defer tpm2.FlushContext{FlushHandle: srk.ObjectHandle}.Execute(tpm)
	if err := sealUnseal(tpm, srk); err != nil {
		return err
	}
	fmt.Printf("TIS-OK driver stats: %+v\n", tpm.Stats())
	return nil
}

// sealUnseal seals 32 bytes under the SRK and unseals them again: the path
// the box's key takes, timed over TIS.
func sealUnseal(tpm transport.TPM, srk *tpm2.CreatePrimaryResponse) error {
	secret := bytes.Repeat([]byte{0x5A}, 32)
	parent := tpm2.NamedHandle{Handle: srk.ObjectHandle, Name: srk.Name}
	var blob *tpm2.CreateResponse
	if err := timed("Create(sealed 32 bytes)", 1, func() (err error) {
		blob, err = tpm2.Create{
			ParentHandle: parent,
			InSensitive:  tpm2.TPM2BSensitiveCreate{Sensitive: &tpm2.TPMSSensitiveCreate{Data: tpm2.NewTPMUSensitiveCreate(&tpm2.TPM2BSensitiveData{Buffer: secret})}},
			InPublic: tpm2.New2B(tpm2.TPMTPublic{
				Type:             tpm2.TPMAlgKeyedHash,
				NameAlg:          tpm2.TPMAlgSHA256,
				ObjectAttributes: tpm2.TPMAObject{FixedTPM: true, FixedParent: true, UserWithAuth: true},
			}),
		}.Execute(tpm)
		return err
	}); err != nil {
		return err
	}
	return timed("Load+Unseal+Flush", 5, func() error {
		ld, err := tpm2.Load{ParentHandle: parent, InPrivate: blob.OutPrivate, InPublic: blob.OutPublic}.Execute(tpm)
		if err != nil {
			return err
		}
		defer tpm2.FlushContext{FlushHandle: ld.ObjectHandle}.Execute(tpm)
		us, err := tpm2.Unseal{ItemHandle: tpm2.AuthHandle{Handle: ld.ObjectHandle, Name: ld.Name, Auth: tpm2.PasswordAuth(nil)}}.Execute(tpm)
		if err != nil {
			return err
		}
		if !bytes.Equal(us.OutData.Buffer, secret) {
			return fmt.Errorf("unsealed %x", us.OutData.Buffer)
		}
		return nil
	})
}
