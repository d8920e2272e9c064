package main

import (
	"context"
	"encoding/json"
	"fmt"

	updadmin "github.com/chatsecure/box/updates/admin"
)

// update sends a signed bundle to boxd (resumable chunks) and applies it, or
// shows the update status.
func (c *cli) update(ctx context.Context, args []string) error {
	hc, base := c.c.HTTP()
	uc := &updadmin.Client{HTTP: hc, Base: base}
	if len(args) == 0 {
		return fmt.Errorf("%w: update apply FILE | update offer ID | update status", errUsage)
	}
	switch args[0] {
	case "status":
		st, err := uc.Status(ctx)
		if err != nil {
			return err
		}
		b, _ := json.MarshalIndent(st, "", "  ")
		fmt.Fprintf(c.stdout, "%s\n", b)
		return nil
	case "apply":
		if len(args) != 2 {
			return fmt.Errorf("%w: update apply FILE", errUsage)
		}
		last := -1
		id, err := uc.Upload(ctx, args[1], "", func(done, total int64) {
			pct := int(done * 100 / max(total, 1))
			if pct/10 != last/10 || done == total {
				fmt.Fprintf(c.stderr, "upload: %3d%% (%d of %d bytes)\n", pct, done, total)
				last = pct
			}
		})
		if err != nil {
			if id != "" {
				return fmt.Errorf("%w (upload %s can be resumed)", err, id)
			}
			return err
		}
		fmt.Fprintln(c.stderr, "verifying signatures and payloads, then writing the inactive slot...")
		res, err := uc.Apply(ctx, id)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "applied %s (build %d) to slot %s; it runs on trial after the next reboot and commits if healthy\n",
			res.To.Version, res.To.Build, res.Slot)
		return nil
	case "offer":
		// A bundle the box found on a USB stick or its feed (ids in
		// update status's offers), already verified when it was found.
		if len(args) != 2 {
			return fmt.Errorf("%w: update offer ID", errUsage)
		}
		fmt.Fprintln(c.stderr, "verifying signatures and payloads, then writing the inactive slot...")
		res, err := uc.ApplyOffer(ctx, args[1])
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "applied %s (build %d) to slot %s; it runs on trial after the next reboot and commits if healthy\n",
			res.To.Version, res.To.Build, res.Slot)
		return nil
	}
	return fmt.Errorf("%w: update apply FILE | update offer ID | update status", errUsage)
}
