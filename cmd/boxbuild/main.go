// Command boxbuild builds the box's disk images and update payloads:
//
//	boxbuild image -target amd64|pi -version V [-out build/box-<target>-<V>.img]
//
// All the work is in package images.
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
	if err := images.Run(ctx, os.Args[1:], os.Stdout, log); err != nil {
		fmt.Fprintln(os.Stderr, "boxbuild:", err)
		os.Exit(1)
	}
}
