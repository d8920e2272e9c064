package gpio_test

import (
	"errors"
	"flag"
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/chatsecure/box/gpio"
)

var updateReadme = flag.Bool("update-readme", false, "rewrite the LED table in ../README.md from the pattern table")

const (
	tableStart = "<!-- led-table -->"
	tableEnd   = "<!-- /led-table -->"
)

// TestREADMELEDTable keeps the manual honest: the README's LED table is the
// one MarkdownTable renders from the table the driver plays. Regenerate with
// go test ./gpio -run TestREADMELEDTable -update-readme
func TestREADMELEDTable(t *testing.T) {
	const path = "../README.md"
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		t.Skip("no README.md yet")
	}
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	i := strings.Index(doc, tableStart)
	if i < 0 {
		t.Fatalf("README.md has no %s … %s section; put the output of gpio.MarkdownTable() there:\n\n%s", tableStart, tableEnd, gpio.MarkdownTable())
	}
	body := i + len(tableStart)
	j := strings.Index(doc[body:], tableEnd)
	if j < 0 {
		t.Fatalf("README.md opens %s but never closes it with %s", tableStart, tableEnd)
	}
	want := gpio.MarkdownTable()
	if *updateReadme {
		doc = doc[:body] + "\n" + want + doc[body+j:]
		if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if got := strings.TrimSpace(doc[body : body+j]); got != strings.TrimSpace(want) {
		t.Errorf("README.md's LED table differs from gpio.MarkdownTable(); run\n  go test ./gpio -run TestREADMELEDTable -update-readme\ngot:\n%s\nwant:\n%s", got, want)
	}
}
