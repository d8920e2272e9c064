package console_test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/chatsecure/box/services/console"
	"github.com/chatsecure/box/updates/bundle"
	"github.com/chatsecure/box/updates/trust"
)

// testBundle writes a bundle for build with sigs signatures and returns
// its bytes.
func testBundle(t *testing.T, version string, build uint64, sigs int) []byte {
	t.Helper()
	dir := t.TempDir()
	img := filepath.Join(dir, "root.img")
	os.WriteFile(img, bytes.Repeat([]byte("root "+version), 30_000), 0o644)
	p := filepath.Join(dir, "u.boxupdate")
	if err := bundle.WriteUnsigned(p, bundle.Spec{Target: "amd64", Version: version, Build: build}, []bundle.PayloadFile{{Name: "root", Path: img}}); err != nil {
		t.Fatal(err)
	}
	for i := range sigs {
		k, err := trust.Generate("k"+string(rune('0'+i)), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if err := bundle.AddSignature(p, k); err != nil {
			t.Fatal(err)
		}
	}
	b, _ := os.ReadFile(p)
	return b
}

// raw sends body as-is with the CSRF token in the header, as updates.js does.
func (b *browser) raw(method, path string, body []byte, ctype, token string) *httptest.ResponseRecorder {
	b.t.Helper()
	req := httptest.NewRequest(method, "https://box.test"+path, bytes.NewReader(body))
	req.RemoteAddr = b.ip + ":40000"
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if token != "" {
		req.Header.Set("X-CSRF-Token", token)
	}
	for k, v := range b.cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	rec := httptest.NewRecorder()
	b.h.ServeHTTP(rec, req)
	return rec
}

func decode[T any](t *testing.T, rec *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("reply %d is not JSON: %v\n%s", rec.Code, err, rec.Body)
	}
	return v
}

// uploadAll sends data in chunks of n bytes, resuming from the box's
// offset after a failed chunk, and returns the upload id.
func uploadAll(t *testing.T, b *browser, token string, data []byte, n int) string {
	t.Helper()
	rec := b.raw("POST", "/updates/uploads", []byte(`{"size":`+itoa(len(data))+`,"name":"v2.boxupdate"}`), "application/json", token)
	if rec.Code != http.StatusCreated {
		t.Fatalf("begin: %d %s", rec.Code, rec.Body)
	}
	up := decode[console.Upload](t, rec)
	for up.Received < up.Size {
		end := min(up.Received+int64(n), up.Size)
		rec := b.raw("POST", "/updates/uploads/"+up.ID+"?offset="+itoa(int(up.Received)), data[up.Received:end], "application/octet-stream", token)
		switch rec.Code {
		case http.StatusOK:
			up = decode[console.Upload](t, rec)
		case http.StatusBadRequest:
			// The chunk failed: ask the box where it stands.
			st := b.raw("GET", "/updates/uploads/"+up.ID, nil, "", "")
			up = decode[console.Upload](t, st)
		default:
			t.Fatalf("chunk at %d: %d %s", up.Received, rec.Code, rec.Body)
		}
	}
	return up.ID
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestUpdateUploadResumeApply(t *testing.T) {
	env, admin := claimed(t, nil)
	page := admin.get("/updates")
	if page.Code != 200 || !strings.Contains(page.Body.String(), "1.0.0") || !strings.Contains(page.Body.String(), `id="upload-form"`) {
		t.Fatalf("update page: %d\n%s", page.Code, page.Body)
	}
	token := admin.csrf("/updates")
	data := testBundle(t, "2.0.0", 2, 2)

	// Begin, one chunk, then a chunk whose connection drops half-way.
	rec := admin.raw("POST", "/updates/uploads", []byte(`{"size":`+itoa(len(data))+`}`), "application/json", token)
	up := decode[console.Upload](t, rec)
	if rec.Code != http.StatusCreated || up.Size != int64(len(data)) || up.Received != 0 {
		t.Fatalf("begin: %d %+v", rec.Code, up)
	}
	const chunk = 100_000
	if rec := admin.raw("POST", "/updates/uploads/"+up.ID+"?offset=0", data[:chunk], "application/octet-stream", token); rec.Code != 200 {
		t.Fatalf("chunk 1: %d %s", rec.Code, rec.Body)
	}
	env.Box.FailChunks(chunk, 1)
	if rec := admin.raw("POST", "/updates/uploads/"+up.ID+"?offset=100000", data[chunk:2*chunk], "application/octet-stream", token); rec.Code != http.StatusBadRequest {
		t.Fatalf("dropped chunk: %d %s", rec.Code, rec.Body)
	}
	// Sending that chunk again from where the client thought is refused
	// with the box's offset, which is where the client resumes.
	rec = admin.raw("POST", "/updates/uploads/"+up.ID+"?offset=100000", data[chunk:2*chunk], "application/octet-stream", token)
	up = decode[console.Upload](t, rec)
	if rec.Code != http.StatusConflict || up.Received != chunk+chunk/2 {
		t.Fatalf("stale offset: %d %+v", rec.Code, up)
	}
	for up.Received < up.Size {
		end := min(up.Received+chunk, up.Size)
		rec := admin.raw("POST", "/updates/uploads/"+up.ID+"?offset="+itoa(int(up.Received)), data[up.Received:end], "application/octet-stream", token)
		if rec.Code != 200 {
			t.Fatalf("chunk at %d: %d %s", up.Received, rec.Code, rec.Body)
		}
		up = decode[console.Upload](t, rec)
	}
	if rec := admin.raw("POST", "/updates/uploads/"+up.ID+"/apply", nil, "", token); rec.Code != http.StatusAccepted {
		t.Fatalf("apply: %d %s", rec.Code, rec.Body)
	}
	env.Box.WaitApplied()
	st := decode[console.UpdateStatus](t, admin.get("/updates/status.json"))
	if st.Applying != nil || st.Last == nil || !st.Last.OK || st.Last.Version != "2.0.0" || st.Pending != "B" {
		t.Fatalf("status after apply: %+v last %+v", st, st.Last)
	}
	body := admin.get("/updates").Body.String()
	for _, want := range []string{"2.0.0 is written to slot B and runs on trial after the next restart", `<span class="pill">applied</span>`} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	acts := env.Box.Actions()
	for _, a := range []string{"update-upload", "update-apply", "update-applied"} {
		if !contains(acts, a) {
			t.Errorf("audit log lacks %s: %v", a, acts)
		}
	}
}

func TestUpdateRefusedShowsReason(t *testing.T) {
	env, admin := claimed(t, nil)
	token := admin.csrf("/updates")
	id := uploadAll(t, admin, token, testBundle(t, "2.0.0", 2, 1), 64<<10)
	if rec := admin.raw("POST", "/updates/uploads/"+id+"/apply", nil, "", token); rec.Code != http.StatusAccepted {
		t.Fatalf("apply: %d %s", rec.Code, rec.Body)
	}
	env.Box.WaitApplied()
	st := decode[console.UpdateStatus](t, admin.get("/updates/status.json"))
	if st.Last == nil || st.Last.OK || !strings.Contains(st.Last.Reason, "1 valid of threshold 2") || st.Pending != "" {
		t.Fatalf("refused: %+v", st.Last)
	}
	body := admin.get("/updates").Body.String()
	if !regexp.MustCompile(`id="update-error"\s*>The update was refused: updates: manifest signatures: 1 valid of threshold 2`).MatchString(body) {
		t.Fatalf("page does not show the reason:\n%s", body)
	}
	if !strings.Contains(body, `<span class="pill">refused</span>`) {
		t.Error("history lacks the refusal")
	}
	if !contains(env.Box.Actions(), "update-refused") {
		t.Error("refusal not audited")
	}
	// An incomplete upload cannot be applied.
	rec := admin.raw("POST", "/updates/uploads", []byte(`{"size":1000}`), "application/json", token)
	up := decode[console.Upload](t, rec)
	rec = admin.raw("POST", "/updates/uploads/"+up.ID+"/apply", nil, "", token)
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "incomplete") {
		t.Fatalf("incomplete apply: %d %s", rec.Code, rec.Body)
	}
}

func TestUpdateRoutesRefuseUsersAndForgedPosts(t *testing.T) {
	env, admin := claimed(t, nil)
	admin.post("/people", "/people", url.Values{"username": {"bob"}, "role": {"user"}})
	link := regexp.MustCompile(`/reset/[A-Za-z0-9_-]+`).FindString(admin.post("/people", "/people/bob/reset", nil).Body.String())
	u := newBrowser(t, env)
	u.post(link, link, url.Values{"password": {"bobs password 1"}, "password2": {"bobs password 1"}})
	bob := login(t, env, "bob", "bobs password 1")
	bobToken := bob.csrf("/account")
	if rec := bob.raw("POST", "/updates/uploads", []byte(`{"size":10}`), "application/json", bobToken); rec.Code != http.StatusForbidden {
		t.Fatalf("user begins an upload: %d", rec.Code)
	}
	if rec := bob.get("/updates/status.json"); rec.Code != http.StatusForbidden {
		t.Fatalf("user reads update status: %d", rec.Code)
	}

	token := admin.csrf("/updates")
	rec := admin.raw("POST", "/updates/uploads", []byte(`{"size":10}`), "application/json", token)
	up := decode[console.Upload](t, rec)
	chunkPath := "/updates/uploads/" + up.ID + "?offset=0"
	// No token, another session's token, a cross-site Origin: refused,
	// and nothing reached the upload.
	other := login(t, env, "ada", adminPassword).csrf("/updates")
	for name, rec := range map[string]*httptest.ResponseRecorder{
		"no token":                admin.raw("POST", chunkPath, []byte("0123456789"), "application/octet-stream", ""),
		"foreign token":           admin.raw("POST", chunkPath, []byte("0123456789"), "application/octet-stream", other),
		"form token in body only": admin.raw("POST", chunkPath, []byte("csrf="+url.QueryEscape(token)), "application/octet-stream", ""),
	} {
		if rec.Code != http.StatusForbidden {
			t.Errorf("%s: %d", name, rec.Code)
		}
	}
	req := httptest.NewRequest("POST", "https://box.test"+chunkPath, strings.NewReader("0123456789"))
	req.Header.Set("X-CSRF-Token", token)
	req.Header.Set("Origin", "https://evil.example")
	for k, v := range admin.cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	w := httptest.NewRecorder()
	env.Console.Handler().ServeHTTP(w, req)
	if w.Code != http.StatusForbidden {
		t.Errorf("cross-site origin: %d", w.Code)
	}
	st := decode[console.Upload](t, admin.raw("GET", "/updates/uploads/"+up.ID, nil, "", ""))
	if st.Received != 0 {
		t.Fatalf("forged chunks were stored: %+v", st)
	}
	// A chunk above the console's limit is cut off, not buffered.
	big := admin.raw("POST", "/updates/uploads", []byte(`{"size":20000000}`), "application/json", token)
	bu := decode[console.Upload](t, big)
	if rec := admin.raw("POST", "/updates/uploads/"+bu.ID+"?offset=0", make([]byte, 9<<20), "application/octet-stream", token); rec.Code == 200 {
		t.Fatal("9 MiB chunk accepted")
	}
}

func TestUpdateOfferApplied(t *testing.T) {
	env, admin := claimed(t, nil)
	o, err := env.Box.AddOffer("usb", testBundle(t, "3.0.0", 3, 2))
	if err != nil {
		t.Fatal(err)
	}
	env.Box.SetUSBProblem("source: usb sdb1: old.boxupdate refused: manifest signatures: 0 valid of threshold 2")
	body := admin.get("/updates").Body.String()
	if !strings.Contains(body, "old.boxupdate refused: manifest signatures") {
		t.Error("page does not say why the stick's bundle was refused")
	}
	if !strings.Contains(body, "3.0.0") || !strings.Contains(body, "USB stick") || !strings.Contains(body, "/updates/offers/"+o.ID+"/apply") {
		t.Fatalf("offer not listed:\n%s", body)
	}
	rec := admin.post("/updates", "/updates/offers/"+o.ID+"/apply", nil)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/updates?ok=applying" {
		t.Fatalf("apply offer: %d %s", rec.Code, rec.Header().Get("Location"))
	}
	env.Box.WaitApplied()
	st := decode[console.UpdateStatus](t, admin.get("/updates/status.json"))
	if st.Last == nil || !st.Last.OK || st.Last.Version != "3.0.0" {
		t.Fatalf("after offer: %+v", st.Last)
	}
	if rec := admin.post("/updates", "/updates/offers/nope/apply", nil); rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), "could not start") {
		t.Fatalf("unknown offer: %d", rec.Code)
	}
}
