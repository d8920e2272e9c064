package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/chatsecure/box/updates"
	"github.com/chatsecure/box/updates/source"
)

// A Client is boxctl's side. Base is the admin API's URL (for a unix
// socket: an http.Client whose transport dials it, and Base "http://boxd").
type Client struct {
	HTTP  *http.Client
	Base  string
	Chunk int64 // upload chunk size; 4 MiB when zero
}

// An Error is the API's refusal, with its reason.
type Error struct {
	Code   int
	Reason string
}

func (e *Error) Error() string { return fmt.Sprintf("%s (HTTP %d)", e.Reason, e.Code) }

func (c *Client) do(ctx context.Context, method, path string, body io.Reader, out any, ok ...int) (int, error) {
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(c.Base, "/")+"/v1/updates/"+path, body)
	if err != nil {
		return 0, fmt.Errorf("admin: %w", err)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return 0, fmt.Errorf("admin: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return resp.StatusCode, fmt.Errorf("admin: %w", err)
	}
	for _, code := range ok {
		if resp.StatusCode == code {
			if out != nil {
				if err := json.Unmarshal(b, out); err != nil {
					return resp.StatusCode, fmt.Errorf("admin: reply: %w", err)
				}
			}
			return resp.StatusCode, nil
		}
	}
	var e struct {
		Error string `json:"error"`
	}
	json.Unmarshal(b, &e)
	if e.Error == "" {
		e.Error = strings.TrimSpace(string(b))
	}
	return resp.StatusCode, &Error{Code: resp.StatusCode, Reason: e.Error}
}

// Upload sends the file in chunks, resuming from what the box already has
// when a chunk is refused for its offset or a request fails and is retried
// with resumeID. sent, if set, gets bytes acknowledged and the total.
func (c *Client) Upload(ctx context.Context, path, resumeID string, sent func(done, total int64)) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("admin: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("admin: %w", err)
	}
	var u source.Upload
	if resumeID != "" {
		if _, err := c.do(ctx, http.MethodGet, "uploads/"+resumeID, nil, &u, http.StatusOK); err != nil {
			return "", err
		}
		if u.Size != st.Size() {
			return "", fmt.Errorf("admin: upload %s is for %d bytes, file has %d", resumeID, u.Size, st.Size())
		}
	} else {
		body, _ := json.Marshal(map[string]int64{"size": st.Size()})
		if _, err := c.do(ctx, http.MethodPost, "uploads", bytes.NewReader(body), &u, http.StatusCreated); err != nil {
			return "", err
		}
	}
	chunk := c.Chunk
	if chunk <= 0 {
		chunk = 4 << 20
	}
	for u.Received < u.Size {
		n := min(chunk, u.Size-u.Received)
		body := io.NewSectionReader(f, u.Received, n)
		var next source.Upload
		code, err := c.do(ctx, http.MethodPut, fmt.Sprintf("uploads/%s?offset=%d", u.ID, u.Received), body, &next, http.StatusOK, http.StatusConflict)
		if err != nil {
			return u.ID, err
		}
		if code == http.StatusConflict && next.Received == u.Received {
			return u.ID, errors.New("admin: upload makes no progress")
		}
		u = next
		if sent != nil {
			sent(u.Received, u.Size)
		}
	}
	return u.ID, nil
}

// Apply finishes an upload and applies it; it returns when the apply is
// done (Status shows progress meanwhile).
func (c *Client) Apply(ctx context.Context, id string) (updates.Result, error) {
	var res updates.Result
	_, err := c.do(ctx, http.MethodPost, "uploads/"+id+"/apply", nil, &res, http.StatusOK)
	return res, err
}

// ApplyOffer applies a bundle the box found on a USB stick or its feed
// (the ids are in Status's offers).
func (c *Client) ApplyOffer(ctx context.Context, id string) (updates.Result, error) {
	var res updates.Result
	_, err := c.do(ctx, http.MethodPost, "offers/"+id+"/apply", nil, &res, http.StatusOK)
	return res, err
}

// Status reads the box's update status and any apply in progress.
func (c *Client) Status(ctx context.Context) (StatusReply, error) {
	var st StatusReply
	_, err := c.do(ctx, http.MethodGet, "status", nil, &st, http.StatusOK)
	return st, err
}

// Commit and Abandon end a trial by hand (boxd normally does it itself).
func (c *Client) Commit(ctx context.Context) error {
	_, err := c.do(ctx, http.MethodPost, "commit", nil, nil, http.StatusOK)
	return err
}

// Abandon makes the old slot the next boot.
func (c *Client) Abandon(ctx context.Context, why string) error {
	body, _ := json.Marshal(map[string]string{"why": why})
	_, err := c.do(ctx, http.MethodPost, "abandon", bytes.NewReader(body), nil, http.StatusOK)
	return err
}

// Rotate sends a signed key-rotation statement.
func (c *Client) Rotate(ctx context.Context, statement []byte) error {
	_, err := c.do(ctx, http.MethodPost, "rotate", bytes.NewReader(statement), nil, http.StatusOK)
	return err
}
