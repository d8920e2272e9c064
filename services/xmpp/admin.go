package xmpp

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/chatsecure/box/services/xmpp/accounts"
)

// RegisterAdmin implements services.AdminHandler; the endpoints are in the
// package documentation.
func (s *Server) RegisterAdmin(mux *http.ServeMux) {
	mux.HandleFunc("POST /v1/xmpp/users", s.adminAdd)
	mux.HandleFunc("GET /v1/xmpp/users", s.adminList)
	mux.HandleFunc("POST /v1/xmpp/users/passwd", s.adminPasswd)
	mux.HandleFunc("DELETE /v1/xmpp/users/{jid}", s.adminDelete)
}

type userRequest struct {
	JID      string `json:"jid"`
	Password string `json:"password"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func writeErr(w http.ResponseWriter, err error) {
	code := http.StatusInternalServerError
	switch {
	case errors.Is(err, accounts.ErrBadUsername), errors.Is(err, accounts.ErrBadPassword):
		code = http.StatusBadRequest
	case errors.Is(err, accounts.ErrNotFound):
		code = http.StatusNotFound
	case errors.Is(err, accounts.ErrExists):
		code = http.StatusConflict
	}
	writeJSON(w, code, map[string]string{"error": err.Error()})
}

func readUser(w http.ResponseWriter, r *http.Request) (userRequest, bool) {
	var req userRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "xmpp: bad request body: " + err.Error()})
		return req, false
	}
	if req.JID == "" || req.Password == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "xmpp: jid and password are required"})
		return req, false
	}
	return req, true
}

func (s *Server) bare(user string) string { return user + "@" + s.cfg.Domain }

func (s *Server) adminAdd(w http.ResponseWriter, r *http.Request) {
	req, ok := readUser(w, r)
	if !ok {
		return
	}
	if err := s.acc.Create(r.Context(), req.JID, req.Password); err != nil {
		writeErr(w, err)
		return
	}
	u, _ := s.acc.Normalize(req.JID)
	s.log.Info("xmpp: account created", "jid", s.bare(u))
	writeJSON(w, http.StatusCreated, map[string]string{"jid": s.bare(u)})
}

func (s *Server) adminList(w http.ResponseWriter, r *http.Request) {
	users, err := s.acc.List(r.Context())
	if err != nil {
		writeErr(w, err)
		return
	}
	out := make([]string, len(users))
	for i, u := range users {
		out[i] = s.bare(u)
	}
	writeJSON(w, http.StatusOK, map[string][]string{"users": out})
}

func (s *Server) adminPasswd(w http.ResponseWriter, r *http.Request) {
	req, ok := readUser(w, r)
	if !ok {
		return
	}
	if err := s.acc.SetPassword(r.Context(), req.JID, req.Password); err != nil {
		writeErr(w, err)
		return
	}
	u, _ := s.acc.Normalize(req.JID)
	s.log.Info("xmpp: password changed", "jid", s.bare(u))
	writeJSON(w, http.StatusOK, map[string]string{"jid": s.bare(u)})
}

func (s *Server) adminDelete(w http.ResponseWriter, r *http.Request) {
	j := r.PathValue("jid")
	if err := s.acc.Delete(r.Context(), j); err != nil {
		writeErr(w, err)
		return
	}
	u, _ := s.acc.Normalize(j)
	s.log.Info("xmpp: account deleted", "jid", s.bare(u))
	writeJSON(w, http.StatusOK, map[string]string{"jid": s.bare(u)})
}
