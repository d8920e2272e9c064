package main

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/chatsecure/box/appliance/adminapi"
)

func (c *cli) status(ctx context.Context) error {
	var st adminapi.Status
	if err := c.c.Do(ctx, "GET", "/v1/status", nil, &st); err != nil {
		return err
	}
	w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "state:\t%s\n", st.State)
	if st.Reason != "" {
		fmt.Fprintf(w, "reason:\t%s\n", st.Reason)
	}
	fmt.Fprintf(w, "version:\t%s\n", st.Version)
	if st.Dev {
		fmt.Fprintf(w, "mode:\tDEV (software key sealer)\n")
	}
	fmt.Fprintf(w, "data:\t%s\n", st.DataDir)
	fmt.Fprintf(w, "uptime:\t%s\n", st.Uptime)
	if st.LED != "" {
		fmt.Fprintf(w, "led:\t%s\n", st.LED)
	}
	if st.SetupCode != "" {
		fmt.Fprintf(w, "setup code:\t%s\n", st.SetupCode)
	}
	if st.CertFingerprint != "" {
		fmt.Fprintf(w, "certificate:\tSHA-256 %s\n", st.CertFingerprint)
	}
	if st.RecoveryPending {
		fmt.Fprintf(w, "recovery code:\tNOT YET SAVED (boxctl recovery show, then confirm)\n")
	}
	names := make([]string, 0, len(st.Health))
	for n := range st.Health {
		names = append(names, n)
	}
	slices.Sort(names)
	fmt.Fprintf(w, "health:\n")
	for _, n := range names {
		h := st.Health[n]
		mark := "ok"
		if !h.OK {
			mark = "FAIL"
		}
		fmt.Fprintf(w, "  %s\t%s\t%s\n", n, mark, h.Detail)
	}
	return w.Flush()
}

func (c *cli) unlock(ctx context.Context) error {
	code, err := c.readSecret("recovery code")
	if err != nil {
		return err
	}
	var st adminapi.Status
	if err := c.c.Do(ctx, "POST", "/v1/unlock", adminapi.UnlockRequest{RecoveryCode: code}, &st); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "unlocked: box is %s; the key is sealed to this box again\n", st.State)
	return nil
}

func (c *cli) check(ctx context.Context) error {
	fmt.Fprintln(c.stderr, "checking the store (this reads every page)...")
	if err := c.c.Do(ctx, "POST", "/v1/check", nil, nil); err != nil {
		return err
	}
	fmt.Fprintln(c.stdout, "store: ok")
	return nil
}

func (c *cli) recovery(ctx context.Context, args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("%w: recovery show|confirm", errUsage)
	}
	switch args[0] {
	case "show":
		var rc adminapi.RecoveryCode
		if err := c.c.Do(ctx, "GET", "/v1/recovery", nil, &rc); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "%s\n", rc.Code)
		fmt.Fprintln(c.stderr, "Keep it offline. It opens this box's data if its TPM is cleared or replaced. Then run: boxctl recovery confirm")
		return nil
	case "confirm":
		if err := c.c.Do(ctx, "POST", "/v1/recovery/confirm", nil, nil); err != nil {
			return err
		}
		fmt.Fprintln(c.stdout, "recovery code confirmed; the box no longer shows it")
		return nil
	}
	return fmt.Errorf("%w: recovery show|confirm", errUsage)
}

// user talks to the XMPP service's admin endpoints.
func (c *cli) user(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: user add|list|passwd|del", errUsage)
	}
	switch args[0] {
	case "list":
		var list struct {
			Users []string `json:"users"`
		}
		if err := c.c.Do(ctx, "GET", "/v1/xmpp/users", nil, &list); err != nil {
			return err
		}
		for _, u := range list.Users {
			fmt.Fprintln(c.stdout, u)
		}
		return nil
	case "add", "passwd":
		if len(args) != 2 {
			return fmt.Errorf("%w: user %s JID", errUsage, args[0])
		}
		pw, err := c.readSecret("password")
		if err != nil {
			return err
		}
		path := "/v1/xmpp/users"
		if args[0] == "passwd" {
			path = "/v1/xmpp/users/passwd"
		}
		body := map[string]string{"jid": args[1], "password": pw}
		if err := c.c.Do(ctx, "POST", path, body, nil); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "%s: done\n", args[1])
		return nil
	case "del":
		if len(args) != 2 {
			return fmt.Errorf("%w: user del JID", errUsage)
		}
		if err := c.c.Do(ctx, "DELETE", "/v1/xmpp/users/"+url.PathEscape(args[1]), nil, nil); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "%s: deleted\n", args[1])
		return nil
	}
	return fmt.Errorf("%w: user add|list|passwd|del", errUsage)
}

func (c *cli) button(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "press" {
		return fmt.Errorf("%w: button press [-hold 10s]", errUsage)
	}
	fs := flag.NewFlagSet("button press", flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	hold := fs.Duration("hold", 0, "how long to hold the button")
	if err := fs.Parse(args[1:]); err != nil {
		return errUsage
	}
	req := adminapi.ButtonRequest{}
	if *hold > 0 {
		req.Hold = hold.String()
	}
	if err := c.c.Do(ctx, "POST", "/v1/button", req, nil); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "pressed (hold %s)\n", *hold)
	return nil
}

func (c *cli) factoryReset(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("factory-reset", flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	confirm := fs.String("confirm", "", `type "erase" to confirm`)
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if strings.TrimSpace(*confirm) != "erase" {
		return fmt.Errorf(`factory reset destroys every message and account on this box; run: boxctl factory-reset -confirm erase`)
	}
	fmt.Fprintln(c.stderr, "erasing: destroying the sealed key, then the data...")
	var st adminapi.Status
	if err := c.c.Do(ctx, "POST", "/v1/factory-reset", adminapi.FactoryResetRequest{Confirm: "erase"}, &st); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "erased; box is %s, new setup code %s\n", st.State, st.SetupCode)
	return nil
}
