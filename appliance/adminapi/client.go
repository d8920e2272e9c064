package adminapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"syscall"
	"time"
)

// Client talks to boxd over its socket.
type Client struct {
	socket string
	hc     *http.Client
}

// NewClient returns a client for the boxd whose data directory is dataDir.
func NewClient(dataDir string) *Client {
	sock := filepath.Join(dataDir, SocketName)
	return &Client{
		socket: sock,
		hc: &http.Client{
			Timeout: 5 * time.Minute, // integrity checks and updates take a while
			Transport: &http.Transport{
				DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
					var d net.Dialer
					return d.DialContext(ctx, "unix", sock)
				},
			},
		},
	}
}

// Do sends in (nil for no body) to method path and decodes the answer into
// out (nil to ignore it).
func (c *Client) Do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://boxd"+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED) {
			return fmt.Errorf("boxd is not running (no socket at %s)", c.socket)
		}
		if errors.Is(err, syscall.EACCES) {
			return fmt.Errorf("no permission for %s: run as the box's owner (root)", c.socket)
		}
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		var e Error
		if json.Unmarshal(data, &e) == nil && e.Error != "" {
			return errors.New(e.Error)
		}
		if resp.StatusCode == http.StatusNotFound {
			return fmt.Errorf("boxd does not serve %s %s: is that service running? (boxctl status)", method, path)
		}
		return fmt.Errorf("boxd: %s: %s", resp.Status, bytes.TrimSpace(data))
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("boxd: bad answer to %s: %w", path, err)
		}
	}
	return nil
}

// HTTP is the client dialing boxd's socket, with base URL "http://boxd", for
// packages that bring their own admin client (updates/admin).
func (c *Client) HTTP() (*http.Client, string) { return c.hc, "http://boxd" }
