package sign

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/chatsecure/box/config/atomicfile"
	"github.com/chatsecure/box/updates"
	"github.com/chatsecure/box/updates/bundle"
	"github.com/chatsecure/box/updates/trust"
)

const usage = `usage:
  boxsign keygen NAME
  boxsign sign -key NAME.key FILE
  boxsign verify [-trust A.pub[,B.pub...]] [-threshold K] [-seq N] [-min-version V] [-target T] FILE
  boxsign inspect FILE
  boxsign rotate -seq N -new A.pub[,B.pub...] -threshold K -key OLD.key[,...] -out FILE
  boxsign rotate -key OLD.key[,...] FILE     (add signatures to a statement)
  boxsign attach -rotation FILE BUNDLE
  boxsign bundle -target pi|amd64 -version V -build N [-min-version V] -out FILE NAME=PATH...
`

// Run runs boxsign with args (without the program name) and returns the
// exit status: 0 ok, 1 refused or failed, 2 usage.
func Run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmds := map[string]func([]string, io.Writer) error{
		"keygen": keygen, "sign": signCmd, "verify": verify, "inspect": inspect,
		"rotate": rotate, "attach": attach, "bundle": bundleCmd,
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "boxsign: unknown command %q\n%s", args[0], usage)
		return 2
	}
	if err := cmd(args[1:], stdout); err != nil {
		var u usageError
		if errors.As(err, &u) {
			fmt.Fprintf(stderr, "boxsign %s: %v\n%s", args[0], err, usage)
			return 2
		}
		fmt.Fprintf(stderr, "boxsign %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

type usageError struct{ error }

func flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parse parses flags and wants exactly n positional arguments (-1: any).
func parse(fs *flag.FlagSet, args []string, n int) ([]string, error) {
	if err := fs.Parse(args); err != nil {
		return nil, usageError{err}
	}
	if n >= 0 && fs.NArg() != n {
		return nil, usageError{fmt.Errorf("want %d argument(s), got %d", n, fs.NArg())}
	}
	return fs.Args(), nil
}

func keygen(args []string, out io.Writer) error {
	a, err := parse(flags("keygen"), args, 1)
	if err != nil {
		return err
	}
	k, err := trust.Generate(filepath.Base(a[0]), rand.Reader)
	if err != nil {
		return err
	}
	if err := createExcl(a[0]+".key", k.Marshal(), 0o600); err != nil {
		return err
	}
	if err := createExcl(a[0]+".pub", k.Public().Marshal(), 0o644); err != nil {
		os.Remove(a[0] + ".key")
		return err
	}
	fmt.Fprintf(out, "%s.key %s.pub key id %s\n", a[0], a[0], k.Public().ID())
	return nil
}

// createExcl never overwrites: losing a signing key to a typo is worse
// than an error.
func createExcl(path string, b []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func loadPrivate(list string) ([]trust.PrivateKey, error) {
	var ks []trust.PrivateKey
	for _, p := range splitList(list) {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		k, err := trust.ParsePrivate(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		ks = append(ks, k)
	}
	if len(ks) == 0 {
		return nil, usageError{errors.New("-key is required")}
	}
	return ks, nil
}

func loadPublic(list string) ([]ed25519.PublicKey, error) {
	var ks []ed25519.PublicKey
	for _, p := range splitList(list) {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		k, err := trust.ParsePublic(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		ks = append(ks, k.Key)
	}
	return ks, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func signCmd(args []string, out io.Writer) error {
	fs := flags("sign")
	key := fs.String("key", "", "private key file")
	a, err := parse(fs, args, 1)
	if err != nil {
		return err
	}
	ks, err := loadPrivate(*key)
	if err != nil {
		return err
	}
	for _, k := range ks {
		if err := bundle.AddSignature(a[0], k); err != nil {
			return err
		}
		fmt.Fprintf(out, "signed %s with key %s (%s)\n", a[0], k.Public().ID(), k.Name)
	}
	return nil
}

func verify(args []string, out io.Writer) error {
	fs := flags("verify")
	trustList := fs.String("trust", "", "trusted public keys, comma-separated (default: the image's root set)")
	threshold := fs.Int("threshold", 0, "signatures needed (default: all -trust keys)")
	seq := fs.Uint64("seq", 0, "rotation sequence number of the -trust set")
	minVersion := fs.String("min-version", "", "refuse bundles older than this version")
	target := fs.String("target", "", "refuse bundles for another target")
	a, err := parse(fs, args, 1)
	if err != nil {
		return err
	}
	var set trust.Set
	if *trustList == "" {
		if set, err = trust.Root(); err != nil {
			return err
		}
	} else {
		keys, err := loadPublic(*trustList)
		if err != nil {
			return err
		}
		k := *threshold
		if k == 0 {
			k = len(keys)
		}
		if set, err = trust.NewSet(*seq, k, keys); err != nil {
			return err
		}
	}
	f, err := bundle.Open(a[0])
	if err != nil {
		return err
	}
	defer f.Close()
	if set, err = set.Advance(f.Rotations); err != nil {
		return fmt.Errorf("key rotation in bundle: %w", err)
	}
	if _, err := set.Verify(trust.DomainManifest, f.ManifestBytes, f.Signatures); err != nil {
		return err
	}
	m := f.Manifest
	if m.Product != bundle.Product {
		return fmt.Errorf("%w: %q", updates.ErrWrongProduct, m.Product)
	}
	if *target != "" && m.Target != *target {
		return fmt.Errorf("%w: bundle is for %q, want %q", updates.ErrWrongTarget, m.Target, *target)
	}
	if *minVersion != "" {
		min, err := bundle.ParseVersion(*minVersion)
		if err != nil {
			return usageError{err}
		}
		v, _ := bundle.ParseVersion(m.Version)
		if v.Compare(min) < 0 {
			return fmt.Errorf("version %s is below -min-version %s", m.Version, *minVersion)
		}
	}
	if err := updates.VerifyPayloads(context.Background(), f.Bundle, nil); err != nil {
		return err
	}
	fmt.Fprintln(out, m.Version)
	return nil
}

func inspect(args []string, out io.Writer) error {
	a, err := parse(flags("inspect"), args, 1)
	if err != nil {
		return err
	}
	f, err := bundle.Open(a[0])
	if err != nil {
		return err
	}
	defer f.Close()
	m, h := f.Manifest, f.Header
	fmt.Fprintf(out, "format:      %d (manifest %d B, signatures %d B, rotations %d B, payloads %d B)\n",
		h.Format, h.ManifestLen, h.SigsLen, h.RotationsLen, h.PayloadLen)
	fmt.Fprintf(out, "product:     %s\ntarget:      %s\nversion:     %s\nbuild:       %d\n", m.Product, m.Target, m.Version, m.Build)
	if m.MinVersion != "" {
		fmt.Fprintf(out, "min version: %s\n", m.MinVersion)
	}
	fmt.Fprintf(out, "created:     %s\n", m.Created.Format(time.RFC3339))
	for _, p := range m.Payloads {
		fmt.Fprintf(out, "payload:     %-6s %12d B  sha256 %s\n", p.Name, p.Size, p.SHA256)
	}
	for _, s := range f.Signatures {
		fmt.Fprintf(out, "signature:   key %s\n", s.KeyID)
	}
	for _, r := range f.Rotations {
		var ids []string
		for _, id := range (trust.Set{Keys: r.Statement.Keys}).IDs() {
			ids = append(ids, id.String())
		}
		fmt.Fprintf(out, "rotation:    seq %d, %d of %v, %d signature(s)\n", r.Statement.Seq, r.Statement.Threshold, ids, len(r.Signatures))
	}
	return nil
}

func rotate(args []string, out io.Writer) error {
	fs := flags("rotate")
	key := fs.String("key", "", "private keys of the current set, comma-separated")
	newKeys := fs.String("new", "", "public keys of the new set, comma-separated")
	threshold := fs.Int("threshold", 0, "signatures the new set needs")
	seq := fs.Uint64("seq", 0, "sequence number of the new set (current + 1)")
	outPath := fs.String("out", "", "statement file to write")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	ks, err := loadPrivate(*key)
	if err != nil {
		return err
	}
	var r trust.SignedRotation
	var path string
	if *newKeys != "" {
		if fs.NArg() != 0 || *outPath == "" || *seq == 0 || *threshold == 0 {
			return usageError{errors.New("creating a statement needs -seq, -new, -threshold, -key and -out")}
		}
		pubs, err := loadPublic(*newKeys)
		if err != nil {
			return err
		}
		set, err := trust.NewSet(*seq, *threshold, pubs)
		if err != nil {
			return err
		}
		if r, err = trust.NewRotation(set); err != nil {
			return err
		}
		if _, err := os.Stat(*outPath); err == nil {
			return fmt.Errorf("%s exists; to add signatures, run: boxsign rotate -key K %s", *outPath, *outPath)
		}
		path = *outPath
	} else {
		if fs.NArg() != 1 {
			return usageError{errors.New("adding signatures needs -key and one statement FILE")}
		}
		path = fs.Arg(0)
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if r, err = trust.ParseRotation(b); err != nil {
			return err
		}
	}
	for _, k := range ks {
		r.Sign(k)
	}
	if err := atomicfile.WriteFile(path, r.Marshal(), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(out, "%s: key set %d, %d of %d keys, %d signature(s)\n", path, r.Statement.Seq, r.Statement.Threshold, len(r.Statement.Keys), len(r.Signatures))
	return nil
}

func attach(args []string, out io.Writer) error {
	fs := flags("attach")
	rot := fs.String("rotation", "", "rotation statement file")
	a, err := parse(fs, args, 1)
	if err != nil {
		return err
	}
	if *rot == "" {
		return usageError{errors.New("-rotation is required")}
	}
	b, err := os.ReadFile(*rot)
	if err != nil {
		return err
	}
	r, err := trust.ParseRotation(b)
	if err != nil {
		return err
	}
	if err := bundle.AttachRotation(a[0], r); err != nil {
		return err
	}
	fmt.Fprintf(out, "attached key set %d to %s\n", r.Statement.Seq, a[0])
	return nil
}

func bundleCmd(args []string, out io.Writer) error {
	fs := flags("bundle")
	target := fs.String("target", "", "pi or amd64")
	version := fs.String("version", "", "version, e.g. 1.2.3")
	build := fs.String("build", "", "monotonic build number")
	minVersion := fs.String("min-version", "", "oldest version this bundle may update")
	outPath := fs.String("out", "", "bundle file to write")
	a, err := parse(fs, args, -1)
	if err != nil {
		return err
	}
	n, err := strconv.ParseUint(*build, 10, 64)
	if err != nil || *outPath == "" || len(a) == 0 {
		return usageError{errors.New("need -target, -version, -build N, -out and NAME=PATH payloads")}
	}
	var files []bundle.PayloadFile
	for _, p := range a {
		name, path, ok := strings.Cut(p, "=")
		if !ok {
			return usageError{fmt.Errorf("payload %q: want NAME=PATH", p)}
		}
		files = append(files, bundle.PayloadFile{Name: name, Path: path})
	}
	if err := bundle.WriteUnsigned(*outPath, bundle.Spec{Target: *target, Version: *version, Build: n, MinVersion: *minVersion}, files); err != nil {
		return err
	}
	fmt.Fprintf(out, "wrote unsigned %s\n", *outPath)
	return nil
}
