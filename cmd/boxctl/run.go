package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/chatsecure/box/appliance/adminapi"
)

const usage = `usage: boxctl [-data DIR | -dev] COMMAND

commands:
  status                    state, reason and health of every subsystem
  unlock                    open a locked box: recovery code on stdin
  check                     integrity check of the store
  recovery show|confirm     the recovery code, until an admin confirms saving it
  user add|passwd JID       create an account / set its password (password on stdin)
  user list                 list accounts
  user del JID              delete an account
  button press [-hold 10s]  press the dev-mode fake reset button
  update apply FILE         upload a signed .boxupdate (resumable) and apply it
  update offer ID           apply a bundle the box found on a USB stick or its feed
  update status             slots, versions, trial state, apply progress, offers, feed
  factory-reset -confirm erase   crypto-erase the box and start unclaimed

-data defaults to /perm/box (the image), or ./var/dev when only that exists.
`

type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	c              *adminapi.Client
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("boxctl", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	dataDir := fs.String("data", "", "boxd's data directory")
	dev := fs.Bool("dev", false, "use the dev-mode data directory ./var/dev")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	dir := *dataDir
	switch {
	case dir != "":
	case *dev:
		dir = "var/dev"
	default:
		dir = defaultDataDir()
	}
	c := &cli{stdin: stdin, stdout: stdout, stderr: stderr, c: adminapi.NewClient(dir)}
	if err := c.dispatch(context.Background(), fs.Args()); err != nil {
		fmt.Fprintf(stderr, "boxctl: %v\n", err)
		if errors.Is(err, errUsage) {
			fmt.Fprint(stderr, usage)
			return 2
		}
		return 1
	}
	return 0
}

var errUsage = errors.New("bad usage")

func defaultDataDir() string {
	if _, err := os.Stat("/perm/box"); err == nil {
		return "/perm/box"
	}
	if _, err := os.Stat(filepath.Join("var", "dev", adminapi.SocketName)); err == nil {
		return "var/dev"
	}
	return "/perm/box"
}

func (c *cli) dispatch(ctx context.Context, args []string) error {
	switch args[0] {
	case "status":
		return c.status(ctx)
	case "unlock":
		return c.unlock(ctx)
	case "check":
		return c.check(ctx)
	case "recovery":
		return c.recovery(ctx, args[1:])
	case "user":
		return c.user(ctx, args[1:])
	case "button":
		return c.button(ctx, args[1:])
	case "factory-reset":
		return c.factoryReset(ctx, args[1:])
	case "update":
		return c.update(ctx, args[1:])
	}
	return fmt.Errorf("%w: unknown command %q", errUsage, args[0])
}

// readSecret reads one line (a password or code) from stdin.
func (c *cli) readSecret(what string) (string, error) {
	if f, ok := c.stdin.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			fmt.Fprintf(c.stderr, "%s: ", what)
		}
	}
	line, err := bufio.NewReader(c.stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("reading %s from stdin: %w", what, err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", fmt.Errorf("empty %s on stdin", what)
	}
	return line, nil
}
