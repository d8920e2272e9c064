package console

import (
	"archive/zip"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"
)

func (s *Service) getAudit(w http.ResponseWriter, r *http.Request, c *call) {
	entries, err := s.box.AuditLog(r.Context(), 500)
	msg := ""
	if err != nil {
		msg = "The audit log could not be read: " + err.Error()
	}
	s.render(w, r, c, 200, "audit", pageData{Title: "Audit log", Nav: "audit", Error: msg, Data: entries})
}

// secretish matches key=value pairs whose key names a secret: the console
// strips their values from anything it lets out of the box, even though
// the box promises its logs hold none.
var secretish = regexp.MustCompile(`(?i)((?:password|passwd|secret|token|preauth|code|key|cookie|session)[a-z_]*["']?\s*[=:]\s*["']?)[^\s"',;&]+`)

func redact(line string) string {
	return secretish.ReplaceAllString(line, "${1}[redacted]")
}

func (s *Service) logs(r *http.Request, n int) ([]string, error) {
	lines, err := s.box.Logs(r.Context(), n)
	for i := range lines {
		lines[i] = redact(lines[i])
	}
	return lines, err
}

func (s *Service) getLogs(w http.ResponseWriter, r *http.Request, c *call) {
	lines, err := s.logs(r, 300)
	msg := ""
	if err != nil {
		msg = "The logs could not be read: " + err.Error()
	}
	s.render(w, r, c, 200, "logs", pageData{Title: "Logs", Nav: "logs", Error: msg, Data: lines})
}

// getDiagnostics is a zip for a support ticket: status, health, recent
// logs (redacted), disk and temperature, counts. No codes, keys, tokens
// or password hashes.
func (s *Service) getDiagnostics(w http.ResponseWriter, r *http.Request, c *call) {
	ctx := r.Context()
	st := s.box.Status(ctx)
	used, total, _ := diskUsage(s.opts.DataDir)
	temp, hasTemp := cpuTemp(s.opts.ThermalGlob)
	var people, sessions int
	s.db.QueryRowContext(ctx, `SELECT count(*) FROM console_users`).Scan(&people)
	s.db.QueryRowContext(ctx, `SELECT count(*) FROM console_sessions`).Scan(&sessions)
	inv, _ := s.invites.List(ctx)
	status := map[string]any{
		"made":             s.now().UTC().Format(time.RFC3339),
		"state":            st.State,
		"reason":           st.Reason,
		"led":              st.LED,
		"version":          st.Version,
		"uptime_seconds":   int64(st.Uptime.Seconds()),
		"claimed":          st.Claimed,
		"recovery_pending": st.RecoveryPending,
		"cert_fingerprint": st.CertFingerprint,
		"health":           st.Health,
		"sessions":         st.Sessions,
		"messages_per_min": st.MessagesPerMinute,
		"disk_used_bytes":  used,
		"disk_total_bytes": total,
		"console_people":   people,
		"console_sessions": sessions,
		"invites":          len(inv),
		"domain":           s.opts.Domain,
	}
	if hasTemp {
		status["cpu_temp_c"] = temp
	}
	lines, lerr := s.logs(r, 5000)
	if lerr != nil {
		lines = append(lines, "(logs could not be read: "+lerr.Error()+")")
	}
	s.audit(ctx, c, "diagnostics-downloaded", "")
	name := fmt.Sprintf("chatsecure-box-diagnostics-%s.zip", s.now().UTC().Format("20060102-150405"))
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	z := zip.NewWriter(w)
	if f, err := z.Create("status.json"); err == nil {
		e := json.NewEncoder(f)
		e.SetIndent("", "  ")
		e.Encode(status)
	}
	if f, err := z.Create("logs.txt"); err == nil {
		f.Write([]byte(strings.Join(lines, "\n") + "\n"))
	}
	if err := z.Close(); err != nil {
		s.log.Error("console: diagnostics", "err", err)
	}
}

func (s *Service) getSystem(w http.ResponseWriter, r *http.Request, c *call) {
	s.render(w, r, c, 200, "system", pageData{Title: "System", Nav: "system", Data: s.box.Status(r.Context())})
}

func (s *Service) postReboot(w http.ResponseWriter, r *http.Request, c *call) {
	ctx := r.Context()
	s.audit(ctx, c, "reboot", "")
	if err := s.box.Reboot(ctx, c.who(), c.origin); err != nil {
		s.render(w, r, c, 500, "system", pageData{Title: "System", Nav: "system", Error: "Reboot failed: " + err.Error(), Data: s.box.Status(ctx)})
		return
	}
	s.render(w, r, c, 200, "system", pageData{Title: "System", Nav: "system", Flash: flashes["rebooting"], Data: s.box.Status(ctx)})
}

// postFactoryReset erases the box: only with the admin's password typed
// again and the word "erase", so neither a stolen session nor a stray
// click can do it.
func (s *Service) postFactoryReset(w http.ResponseWriter, r *http.Request, c *call) {
	ctx := r.Context()
	fail := func(status int, msg string) {
		s.render(w, r, c, status, "system", pageData{Title: "System", Nav: "system", Error: msg, Data: s.box.Status(ctx)})
	}
	userKey := "user:" + c.who()
	if wait, err := s.throttle.wait(ctx, userKey); err != nil || wait > 0 {
		fail(http.StatusTooManyRequests, fmt.Sprintf("Too many attempts. Try again in %s.", roundUp(wait)))
		return
	}
	if strings.TrimSpace(r.PostFormValue("confirm")) != "erase" {
		fail(400, `Type the word "erase" to confirm.`)
		return
	}
	if !s.checkPasswordHash(ctx, c.sess.user.pwHash, r.PostFormValue("password")) {
		s.throttle.fail(ctx, userKey)
		s.audit(ctx, c, "factory-reset-refused", "wrong password")
		fail(http.StatusForbidden, "That is not your password. Nothing was erased.")
		return
	}
	s.audit(ctx, c, "factory-reset", "")
	if err := s.box.FactoryReset(ctx, c.who(), c.origin); err != nil {
		fail(500, "Factory reset failed: "+err.Error())
		return
	}
	s.endSession(ctx, w, c.sess)
	s.render(w, r, nil, 200, "erased", pageData{Title: "Erased"})
}
