package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// Updates is the box's signed-update side as the console shows it. It is
// optional: Options.Updates, or else the Box when it implements it too
// (appliance and consoletest do); without it the page says updates are
// not available on this box.
//
// Uploads follow the same resumable rules as boxctl's: BeginUpload(size),
// then chunks each starting where the box stands; a chunk at another
// offset is ErrUploadOffset with the Upload saying where to resume.
type Updates interface {
	// UpdateStatus is the update picture with the newest history
	// entries, newest first.
	UpdateStatus(ctx context.Context, history int) (UpdateStatus, error)
	BeginUpload(ctx context.Context, size int64) (Upload, error)
	UploadStatus(ctx context.Context, id string) (Upload, error)
	UploadChunk(ctx context.Context, id string, offset int64, r io.Reader) (Upload, error)
	// ApplyUpload finishes an upload and starts applying it in the
	// background (progress and outcome come through UpdateStatus). It
	// fails at once only when it cannot start: upload incomplete or
	// unknown, another apply running. The box audits the outcome.
	ApplyUpload(ctx context.Context, id, who, origin string) error
	// ApplyOffer does the same for a bundle found on USB or the feed.
	ApplyOffer(ctx context.Context, id, who, origin string) error
}

// ErrUploadOffset is a chunk that did not start where the upload stands.
var ErrUploadOffset = errors.New("console: chunk offset does not match the bytes received")

// ErrUpdateBusy is an apply refused because another one runs.
var ErrUpdateBusy = errors.New("console: another update is being applied")

// Upload is one upload's progress.
type Upload struct {
	ID       string `json:"id"`
	Size     int64  `json:"size"`
	Received int64  `json:"received"`
}

// UpdateStatus is what the update page shows.
type UpdateStatus struct {
	Version string `json:"version"`
	Build   uint64 `json:"build"`
	Booted  string `json:"booted"` // slot running now, A or B
	Active  string `json:"active"` // committed slot
	// InTrial: the running system is an uncommitted trial.
	InTrial bool `json:"in_trial"`
	// Pending is the slot written and marked to run on trial at the next
	// restart ("" when none), with its version.
	Pending        string         `json:"pending,omitempty"`
	PendingVersion string         `json:"pending_version,omitempty"`
	Floor          uint64         `json:"floor"`
	KeySet         uint64         `json:"key_set"`
	History        []UpdateRecord `json:"-"`
	Applying       *ApplyProgress `json:"applying,omitempty"`
	Last           *ApplyOutcome  `json:"last,omitempty"`
	Offers         []UpdateOffer  `json:"offers,omitempty"`
	Feed           *FeedStatus    `json:"feed,omitempty"`
	USB            bool           `json:"usb"` // the box watches for USB sticks
	// USBProblem is the last problem with a stick: it would not mount,
	// or a bundle on it was refused (with the updater's reason).
	USBProblem  string `json:"usb_problem,omitempty"`
	Unavailable string `json:"unavailable,omitempty"`
}

// UpdateRecord is one line of the update history.
type UpdateRecord struct {
	When    time.Time
	From    string
	To      string
	Outcome string // refused, failed, applied, trial, committed, rolled-back, ...
	Why     string
}

// ApplyProgress is an apply in progress: Phase is verify, write or
// readback; Done and Total count bytes within the phase.
type ApplyProgress struct {
	From  string `json:"from"`
	Phase string `json:"phase"`
	Done  int64  `json:"done"`
	Total int64  `json:"total"`
}

// ApplyOutcome is how the last apply ended; Reason is the updater's
// refusal when !OK.
type ApplyOutcome struct {
	At      time.Time `json:"at"`
	From    string    `json:"from"`
	OK      bool      `json:"ok"`
	Version string    `json:"version,omitempty"`
	Slot    string    `json:"slot,omitempty"`
	Reason  string    `json:"reason,omitempty"`
}

// UpdateOffer is a verified bundle found on a USB stick or the feed.
type UpdateOffer struct {
	ID      string    `json:"id"`
	From    string    `json:"from"` // usb or feed
	Version string    `json:"version"`
	Build   uint64    `json:"build"`
	Size    int64     `json:"size"`
	Found   time.Time `json:"found"`
	Detail  string    `json:"detail,omitempty"`
}

// FeedStatus is what the box last saw of its update feed.
type FeedStatus struct {
	URL       string    `json:"url"`
	Channel   string    `json:"channel"`
	LastCheck time.Time `json:"last_check"`
	LastError string    `json:"last_error,omitempty"`
	Latest    string    `json:"latest,omitempty"` // version the feed offers
	Done      int64     `json:"done,omitempty"`   // download in progress
	Total     int64     `json:"total,omitempty"`
}

// maxChunk bounds one upload chunk (the page sends 4 MiB).
const maxChunk = 8 << 20

// historyShown is how many update history entries the page lists.
const historyShown = 20

func (s *Service) updates() Updates {
	if s.opts.Updates != nil {
		return s.opts.Updates
	}
	u, _ := s.box.(Updates)
	return u
}

// jsonUpdates is updates() for the JSON routes: nil after answering 404.
func (s *Service) jsonUpdates(w http.ResponseWriter) Updates {
	u := s.updates()
	if u == nil {
		jsonError(w, http.StatusNotFound, "this box has no update service")
	}
	return u
}

func (s *Service) getUpdates(w http.ResponseWriter, r *http.Request, c *call) {
	u := s.updates()
	st := UpdateStatus{Unavailable: "This box has no update service."}
	if u != nil {
		var err error
		if st, err = u.UpdateStatus(r.Context(), historyShown); err != nil {
			st = UpdateStatus{Unavailable: err.Error()}
		}
	}
	s.render(w, r, c, 200, "updates", pageData{Title: "Updates", Nav: "updates", Data: st})
}

func jsonReply(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func jsonError(w http.ResponseWriter, code int, msg string) {
	jsonReply(w, code, map[string]string{"error": msg})
}

func (s *Service) getUpdateStatus(w http.ResponseWriter, r *http.Request, c *call) {
	u := s.jsonUpdates(w)
	if u == nil {
		return
	}
	st, err := u.UpdateStatus(r.Context(), 0)
	if err != nil {
		jsonError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	jsonReply(w, http.StatusOK, st)
}

func (s *Service) postUploadBegin(w http.ResponseWriter, r *http.Request, c *call) {
	u := s.jsonUpdates(w)
	if u == nil {
		return
	}
	var req struct {
		Size int64  `json:"size"`
		Name string `json:"name"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&req); err != nil {
		jsonError(w, http.StatusBadRequest, "want {\"size\": bytes}")
		return
	}
	up, err := u.BeginUpload(r.Context(), req.Size)
	if err != nil {
		jsonError(w, http.StatusBadRequest, err.Error())
		return
	}
	s.audit(r.Context(), c, "update-upload", fmt.Sprintf("%q, %d bytes, upload %s", req.Name, req.Size, up.ID))
	jsonReply(w, http.StatusCreated, up)
}

func (s *Service) getUpload(w http.ResponseWriter, r *http.Request, c *call) {
	u := s.jsonUpdates(w)
	if u == nil {
		return
	}
	up, err := u.UploadStatus(r.Context(), r.PathValue("id"))
	if err != nil {
		jsonError(w, http.StatusNotFound, err.Error())
		return
	}
	jsonReply(w, http.StatusOK, up)
}

// postUploadChunk takes one chunk: the body is the bytes, ?offset= where
// they start. The CSRF token comes in the X-CSRF-Token header.
func (s *Service) postUploadChunk(w http.ResponseWriter, r *http.Request, c *call) {
	u := s.jsonUpdates(w)
	if u == nil {
		return
	}
	off, err := strconv.ParseInt(r.URL.Query().Get("offset"), 10, 64)
	if err != nil || off < 0 {
		jsonError(w, http.StatusBadRequest, "offset: want a byte position")
		return
	}
	up, err := u.UploadChunk(r.Context(), r.PathValue("id"), off, r.Body)
	switch {
	case errors.Is(err, ErrUploadOffset):
		jsonReply(w, http.StatusConflict, up)
	case err != nil:
		jsonError(w, http.StatusBadRequest, err.Error())
	default:
		jsonReply(w, http.StatusOK, up)
	}
}

func (s *Service) postUploadApply(w http.ResponseWriter, r *http.Request, c *call) {
	u := s.jsonUpdates(w)
	if u == nil {
		return
	}
	id := r.PathValue("id")
	s.audit(r.Context(), c, "update-apply", "upload "+id)
	if err := u.ApplyUpload(r.Context(), id, c.who(), c.origin); err != nil {
		code := http.StatusBadRequest
		if errors.Is(err, ErrUpdateBusy) {
			code = http.StatusConflict
		}
		jsonError(w, code, err.Error())
		return
	}
	jsonReply(w, http.StatusAccepted, map[string]string{"status": "/updates/status.json"})
}

// postOfferApply is a plain form (it works without script): apply a
// bundle found on USB or the feed, then back to the page, which shows the
// progress.
func (s *Service) postOfferApply(w http.ResponseWriter, r *http.Request, c *call) {
	u := s.updates()
	if u == nil {
		http.Error(w, "this box has no update service", http.StatusNotFound)
		return
	}
	id := r.PathValue("id")
	s.audit(r.Context(), c, "update-apply", "offer "+id)
	if err := u.ApplyOffer(r.Context(), id, c.who(), c.origin); err != nil {
		st, _ := u.UpdateStatus(r.Context(), historyShown)
		s.render(w, r, c, http.StatusConflict, "updates", pageData{Title: "Updates", Nav: "updates", Error: "The update could not start: " + err.Error(), Data: st})
		return
	}
	seeOther(w, r, "/updates", "applying")
}
