package console_test

import (
	"io/fs"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestNoThirdPartyReferences keeps every asset in the binary: no template
// or stylesheet may load anything from another origin, and no page has
// inline script (the CSP would block it anyway; this keeps it from being
// written).
func TestNoThirdPartyReferences(t *testing.T) {
	external := regexp.MustCompile(`(?i)(src|href|action)\s*=\s*"(https?:)?//|url\(\s*['"]?(https?:)?//|@import`)
	inline := regexp.MustCompile(`(?i)<script>|<script [^>]*>[^<]|\son[a-z]+\s*=|style\s*=\s*"|javascript:`)
	n := 0
	for _, dir := range []string{"templates", "static"} {
		fs.WalkDir(os.DirFS(dir), ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, _ := os.ReadFile(dir + "/" + p)
			if m := external.Find(b); m != nil {
				t.Errorf("%s/%s references another origin: %s", dir, p, m)
			}
			if strings.HasSuffix(p, ".html") {
				if m := inline.Find(b); m != nil {
					t.Errorf("%s/%s has inline script or style: %s", dir, p, m)
				}
			}
			n++
			return nil
		})
	}
	if n < 10 {
		t.Fatalf("checked only %d files", n)
	}
}

func TestCrossOriginPostRefused(t *testing.T) {
	env, a := claimed(t, nil)
	form := url.Values{"csrf": {a.csrf("/people")}, "username": {"eve"}, "role": {"admin"}}
	req := func(origin string) int {
		rec := a.doWithHeader("POST", "/people", form, "Origin", origin)
		return rec.Code
	}
	if c := req("https://evil.example"); c != 403 {
		t.Fatalf("cross-origin POST with a valid token: %d", c)
	}
	if _, ok := env.Accounts.Password("eve"); ok {
		t.Fatal("cross-origin POST acted")
	}
	if c := req("https://box.test"); c != 200 {
		t.Fatalf("same-origin POST: %d", c)
	}
}
