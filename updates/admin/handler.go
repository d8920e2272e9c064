package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"sync"

	"github.com/chatsecure/box/services"
	"github.com/chatsecure/box/updates"
	"github.com/chatsecure/box/updates/source"
)

// Handler serves the update endpoints.
type Handler struct {
	Updater *updates.Updater
	Staging *source.Staging
	// Applying, if set, is told when an apply starts and ends (the
	// appliance shows "updating" on the LED and in its state machine).
	Applying func(running bool)
	// Tracker, if set, is shared with the other front ends (console, USB,
	// feed) so status shows their applies too; made from Updater and
	// Applying when nil.
	Tracker *Tracker
	// Sources, if set, are the offers from USB sticks and the feed.
	Sources Sources

	once sync.Once
}

// Sources is what the box found on USB sticks and its feed.
type Sources interface {
	Offers() []source.Offer
	// Feed is nil when no feed is configured.
	Feed() *source.FeedStatus
	// ApplyOffer applies an offer; from names the front end.
	ApplyOffer(ctx context.Context, id, from string) (updates.Result, error)
}

func (h *Handler) tracker() *Tracker {
	h.once.Do(func() {
		if h.Tracker == nil {
			h.Tracker = &Tracker{Updater: h.Updater, Applying: h.Applying}
		}
	})
	return h.Tracker
}

var _ services.AdminHandler = (*Handler)(nil)

// StatusReply is GET status.
type StatusReply struct {
	updates.Status
	Progress *updates.Progress  `json:"progress,omitempty"`
	Applying string             `json:"applying,omitempty"` // who started the apply in progress
	Last     *LastApply         `json:"last,omitempty"`
	Offers   []source.Offer     `json:"offers,omitempty"`
	Feed     *source.FeedStatus `json:"feed,omitempty"`
}

// RegisterAdmin adds the routes.
func (h *Handler) RegisterAdmin(mux *http.ServeMux) {
	mux.HandleFunc("GET /v1/updates/status", h.status)
	mux.HandleFunc("POST /v1/updates/uploads", h.begin)
	mux.HandleFunc("GET /v1/updates/uploads/{id}", h.uploadStatus)
	mux.HandleFunc("PUT /v1/updates/uploads/{id}", h.chunk)
	mux.HandleFunc("POST /v1/updates/uploads/{id}/apply", h.apply)
	mux.HandleFunc("POST /v1/updates/offers/{id}/apply", h.applyOffer)
	mux.HandleFunc("POST /v1/updates/commit", h.commit)
	mux.HandleFunc("POST /v1/updates/abandon", h.abandon)
	mux.HandleFunc("POST /v1/updates/rotate", h.rotate)
}

func reply(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, code int, err error) {
	reply(w, code, map[string]string{"error": err.Error()})
}

// refusal maps errors a client caused to 4xx.
func refusal(err error) int {
	switch {
	case errors.Is(err, updates.ErrBusy), errors.Is(err, updates.ErrTrialRunning):
		return http.StatusConflict
	case errors.Is(err, os.ErrNotExist):
		return http.StatusNotFound
	}
	return http.StatusUnprocessableEntity
}

func (h *Handler) status(w http.ResponseWriter, r *http.Request) {
	st, err := h.Updater.Status()
	if err != nil {
		fail(w, http.StatusInternalServerError, err)
		return
	}
	out := StatusReply{Status: st, Last: h.tracker().Last()}
	if c := h.tracker().Current(); c != nil {
		out.Progress, out.Applying = c.Progress, c.From
	}
	if h.Sources != nil {
		out.Offers, out.Feed = h.Sources.Offers(), h.Sources.Feed()
	}
	reply(w, http.StatusOK, out)
}

func (h *Handler) begin(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Size int64 `json:"size"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1024)).Decode(&req); err != nil {
		fail(w, http.StatusBadRequest, fmt.Errorf("admin: begin upload: %w", err))
		return
	}
	u, err := h.Staging.Begin(req.Size)
	if err != nil {
		fail(w, http.StatusBadRequest, err)
		return
	}
	reply(w, http.StatusCreated, u)
}

func (h *Handler) uploadStatus(w http.ResponseWriter, r *http.Request) {
	u, err := h.Staging.Status(r.PathValue("id"))
	if err != nil {
		fail(w, http.StatusNotFound, err)
		return
	}
	reply(w, http.StatusOK, u)
}

func (h *Handler) chunk(w http.ResponseWriter, r *http.Request) {
	off, err := strconv.ParseInt(r.URL.Query().Get("offset"), 10, 64)
	if err != nil {
		fail(w, http.StatusBadRequest, fmt.Errorf("admin: chunk: offset: %w", err))
		return
	}
	u, err := h.Staging.Write(r.PathValue("id"), off, r.Body)
	switch {
	case errors.Is(err, source.ErrOffset):
		reply(w, http.StatusConflict, u)
	case err != nil:
		fail(w, http.StatusBadRequest, err)
	default:
		reply(w, http.StatusOK, u)
	}
}

func (h *Handler) apply(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	path, err := h.Staging.Finish(id)
	if err != nil {
		fail(w, http.StatusBadRequest, err)
		return
	}
	defer h.Staging.Remove(id)
	res, err := h.tracker().ApplyFile(r.Context(), path, "boxctl")
	if err != nil {
		fail(w, refusal(err), err)
		return
	}
	reply(w, http.StatusOK, res)
}

func (h *Handler) applyOffer(w http.ResponseWriter, r *http.Request) {
	if h.Sources == nil {
		fail(w, http.StatusNotFound, errors.New("admin: no update sources on this box"))
		return
	}
	res, err := h.Sources.ApplyOffer(r.Context(), r.PathValue("id"), "boxctl")
	if err != nil {
		fail(w, refusal(err), err)
		return
	}
	reply(w, http.StatusOK, res)
}

func (h *Handler) commit(w http.ResponseWriter, r *http.Request) {
	if err := h.Updater.Commit(r.Context()); err != nil {
		fail(w, http.StatusInternalServerError, err)
		return
	}
	h.status(w, r)
}

func (h *Handler) abandon(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Why string `json:"why"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&req); err != nil || req.Why == "" {
		fail(w, http.StatusBadRequest, errors.New(`admin: abandon: want {"why": "..."}`))
		return
	}
	if err := h.Updater.Abandon(r.Context(), req.Why); err != nil {
		fail(w, http.StatusInternalServerError, err)
		return
	}
	h.status(w, r)
}

func (h *Handler) rotate(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		fail(w, http.StatusBadRequest, err)
		return
	}
	set, err := h.Updater.RotateKeys(b)
	if err != nil {
		fail(w, http.StatusUnprocessableEntity, err)
		return
	}
	reply(w, http.StatusOK, map[string]any{"key_set": set.Seq, "threshold": set.Threshold, "keys": set.IDs()})
}
