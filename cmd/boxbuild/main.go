package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"

	"github.com/chatsecure/box/images"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if len(os.Args) > 1 && os.Args[1] == "bundle" {
		if err := runBundle(os.Args[2:], os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "boxbuild:", err)
			os.Exit(1)
		}
		return
	}
	if err := images.Run(ctx, os.Args[1:], os.Stdout, log); err != nil {
		fmt.Fprintln(os.Stderr, "boxbuild:", err)
		os.Exit(1)
	}
}
