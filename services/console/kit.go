package console

import (
	"fmt"
	"net/http"
	"strings"
)

// The emergency kit: the recovery code shown once, with what the admin
// needs to find the box again, on a page that prints on one sheet.
type kitPage struct {
	Code        string
	Fingerprint string
	Admin       string
	Domain      string
	Console     string
	Made        string
}

func (s *Service) kit(r *http.Request, c *call) (kitPage, error) {
	code, err := s.box.PendingRecoveryCode(r.Context())
	if err != nil {
		return kitPage{}, err
	}
	st := s.box.Status(r.Context())
	return kitPage{Code: code, Fingerprint: st.CertFingerprint, Admin: c.who(), Domain: s.opts.Domain,
		Console: baseURL(r), Made: s.now().UTC().Format("2006-01-02")}, nil
}

func (s *Service) getKit(w http.ResponseWriter, r *http.Request, c *call) {
	k, err := s.kit(r, c)
	if err != nil {
		s.render(w, r, c, 200, "kit", pageData{Title: "Emergency kit", Nav: "dashboard", Error: "The recovery code is no longer shown: " + err.Error()})
		return
	}
	s.render(w, r, c, 200, "kit", pageData{Title: "Emergency kit", Nav: "dashboard", Data: k})
}

func (s *Service) getKitText(w http.ResponseWriter, r *http.Request, c *call) {
	k, err := s.kit(r, c)
	if err != nil {
		http.Error(w, err.Error(), http.StatusGone)
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "ChatSecure Box — Emergency kit\r\n\r\n")
	fmt.Fprintf(&b, "Recovery code:       %s\r\n\r\n", k.Code)
	fmt.Fprintf(&b, "The recovery code opens this box's encrypted storage if its security chip\r\n")
	fmt.Fprintf(&b, "is replaced or cleared. Nobody else has a copy, not even the vendor.\r\n")
	fmt.Fprintf(&b, "Keep this kit offline, somewhere safe (a safe, a password manager).\r\n\r\n")
	fmt.Fprintf(&b, "Chat domain:         %s\r\n", k.Domain)
	fmt.Fprintf(&b, "Console:             %s\r\n", k.Console)
	fmt.Fprintf(&b, "Certificate SHA-256: %s\r\n", k.Fingerprint)
	fmt.Fprintf(&b, "First admin:         %s\r\n", k.Admin)
	fmt.Fprintf(&b, "Made:                %s\r\n\r\n", k.Made)
	fmt.Fprintf(&b, "To use it: boxctl unlock < this-file's-code, or enter it in the console when the box says \"locked\".\r\n")
	s.audit(r.Context(), c, "emergency-kit-downloaded", "")
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="chatsecure-box-emergency-kit.txt"`)
	w.Write([]byte(b.String()))
}

func (s *Service) postKit(w http.ResponseWriter, r *http.Request, c *call) {
	ctx := r.Context()
	if r.PostFormValue("saved") != "yes" {
		k, _ := s.kit(r, c)
		s.render(w, r, c, 400, "kit", pageData{Title: "Emergency kit", Nav: "dashboard", Error: "Tick the box to confirm you saved the kit.", Data: k})
		return
	}
	if err := s.box.ConfirmRecoveryCode(ctx, c.who(), c.origin); err != nil {
		s.render(w, r, c, 500, "kit", pageData{Title: "Emergency kit", Nav: "dashboard", Error: err.Error()})
		return
	}
	seeOther(w, r, "/", "confirmed")
}
