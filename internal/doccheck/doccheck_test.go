// Package doccheck keeps the documentation honest: every Go block in
// docs/library.md must be an excerpt of an Example function that the test
// suite compiles and runs, and every reference a .go or .md file makes to
// docs/ (a file, or a section of docs/spec.md) must resolve inside the
// repository (refs_test.go).
package doccheck

import (
	"os"
	"strings"
	"testing"
)

// normalise trims every line and drops blank ones, so indentation inside a
// function body does not matter.
func normalise(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestLibraryGuideMatchesExamples(t *testing.T) {
	doc, err := os.ReadFile("../../docs/library.md")
	if err != nil {
		t.Fatal(err)
	}
	var sources strings.Builder
	for _, f := range []string{"../../script/example_test.go", "../../params/example_test.go", "../../eots/example_test.go", "../../psbt/example_test.go"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sources.WriteString(normalise(string(b)))
		sources.WriteString("\n")
	}
	src := sources.String()
	blocks := strings.Split(string(doc), "```go\n")[1:]
	if len(blocks) < 8 {
		t.Fatalf("found %d Go blocks in the guide", len(blocks))
	}
	checked := 0
	for i, b := range blocks {
		code := b[:strings.Index(b, "```")]
		// The import block and the block-scanning sketch are declared
		// illustrations, not excerpts.
		if strings.HasPrefix(code, "import (") || strings.HasPrefix(code, "parser, err :=") {
			continue
		}
		if !strings.Contains(src, normalise(code)) {
			t.Errorf("Go block %d of docs/library.md is not an excerpt of any Example:\n%s", i+1, code)
		}
		checked++
	}
	t.Logf("%d blocks checked against the examples", checked)
}
