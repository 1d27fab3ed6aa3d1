package doccheck

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The references every .go and .md file makes must resolve inside the
// repository: a docs/ path names a file or directory that exists, a
// relative Markdown link names a file that exists, a "spec.md §N" or
// "§N.M" citation names a section docs/spec.md has, a Markdown file named
// on its own ("cli.md", not "docs/cli.md" or another repository's
// "vectors/README.md") is a file of the repository, and nothing cites the
// protocol notes that live outside the repository.

var (
	// docsPath is a path starting with docs/ that is not the tail of a
	// longer path or URL (".../x/docs/..." is someone else's docs).
	docsPath = regexp.MustCompile(`(?:^|[^A-Za-z0-9_./-])(docs/[A-Za-z0-9_./-]*)`)
	// mdLink is the target of a Markdown link.
	mdLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	// sectionRef is a section sign and a section number.
	sectionRef = regexp.MustCompile(`§\s*(\d+(?:\.\d+)?)`)
	// bareMD is a Markdown file name standing on its own: not the tail of
	// a path or URL.
	bareMD = regexp.MustCompile(`(?:^|[^A-Za-z0-9_./-])([A-Za-z0-9_-]+\.md)\b`)
	// specHeading matches "## N. Title" and "### N.M Title" in docs/spec.md.
	specHeading = regexp.MustCompile(`(?m)^(##|###) (\d+)\.(\d+)?`)
)

// outsideNotes is the name of the protocol notes shared outside the
// repository, spelled so that this file does not mention it.
var outsideNotes = "PROTOCOL" + ".md"

// specCiteWindow is how far before a section sign "spec.md" may appear for
// the sign to count as a citation of it (a citation may wrap onto the next
// comment line: "(docs/spec.md\n// §6)").
const specCiteWindow = 60

// repo is the view of the repository the checks resolve against.
type repo struct {
	root     string
	sections map[string]bool // "4", "7.8", ...
	mdNames  map[string]bool // base names of the repository's .md files
}

// specSections reads the section numbers of docs/spec.md and checks they
// are numbered 1, 2, 3, ... and, within a section, N.1, N.2, ...
func specSections(spec string) (map[string]bool, error) {
	secs := map[string]bool{}
	top, sub := 0, 0
	for _, m := range specHeading.FindAllStringSubmatch(spec, -1) {
		var n, k int
		fmt.Sscan(m[2], &n)
		if m[1] == "##" {
			if m[3] != "" || n != top+1 {
				return nil, fmt.Errorf("section heading %q: want \"## %d.\"", m[0], top+1)
			}
			top, sub = n, 0
			secs[m[2]] = true
			continue
		}
		fmt.Sscan(m[3], &k)
		if n != top || k != sub+1 {
			return nil, fmt.Errorf("subsection heading %q: want \"### %d.%d\"", m[0], top, sub+1)
		}
		sub = k
		secs[fmt.Sprintf("%d.%d", n, k)] = true
	}
	if top == 0 {
		return nil, fmt.Errorf("no numbered sections")
	}
	return secs, nil
}

func (r *repo) exists(rel string) bool {
	_, err := os.Stat(filepath.Join(r.root, filepath.FromSlash(rel)))
	return err == nil
}

// check returns the broken references in the file at rel (slash-separated,
// relative to the root) with content text.
func (r *repo) check(rel, text string) []string {
	var bad []string
	if strings.Contains(text, outsideNotes) {
		bad = append(bad, fmt.Sprintf("%s mentions %s, which is not in the repository (cite docs/spec.md)", rel, outsideNotes))
	}
	for _, m := range bareMD.FindAllStringSubmatch(text, -1) {
		if m[1] != outsideNotes && !r.mdNames[m[1]] {
			bad = append(bad, fmt.Sprintf("%s names %s, which is not a file of the repository", rel, m[1]))
		}
	}
	for _, m := range docsPath.FindAllStringSubmatch(text, -1) {
		p := strings.TrimRight(m[1], ".,;:")
		if !r.exists(p) {
			bad = append(bad, fmt.Sprintf("%s cites %s, which does not exist", rel, p))
		}
	}
	if strings.HasSuffix(rel, ".md") {
		for _, m := range mdLink.FindAllStringSubmatch(text, -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") || strings.HasPrefix(target, "#") {
				continue
			}
			target, _, _ = strings.Cut(target, "#")
			p := filepath.ToSlash(filepath.Join(filepath.Dir(rel), target))
			if strings.HasPrefix(p, "../") || !r.exists(p) {
				bad = append(bad, fmt.Sprintf("%s links to %s, which does not exist", rel, m[1]))
			}
		}
	}
	isSpec := rel == "docs/spec.md"
	for _, loc := range sectionRef.FindAllStringSubmatchIndex(text, -1) {
		start := max(0, loc[0]-specCiteWindow)
		if !isSpec && !strings.Contains(text[start:loc[0]], "spec.md") {
			continue
		}
		if n := text[loc[2]:loc[3]]; !r.sections[n] {
			bad = append(bad, fmt.Sprintf("%s cites spec.md §%s, a section docs/spec.md does not have", rel, n))
		}
	}
	return bad
}

func loadRepo(t *testing.T) *repo {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("repository root not found: %v", err)
	}
	spec, err := os.ReadFile(filepath.Join(root, "docs", "spec.md"))
	if err != nil {
		t.Fatal(err)
	}
	secs, err := specSections(string(spec))
	if err != nil {
		t.Fatalf("docs/spec.md: %v", err)
	}
	names := map[string]bool{}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && d.Name() == ".git":
			return filepath.SkipDir
		case !d.IsDir() && strings.HasSuffix(d.Name(), ".md"):
			names[d.Name()] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return &repo{root: root, sections: secs, mdNames: names}
}

// TestReferencesResolve walks every .go and .md file of the repository.
func TestReferencesResolve(t *testing.T) {
	r := loadRepo(t)
	for _, want := range []string{"1", "2", "3", "4", "5", "6", "7"} {
		if !r.sections[want] {
			t.Errorf("docs/spec.md has no section %s", want)
		}
	}
	files, cites := 0, 0
	err := filepath.WalkDir(r.root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == ".git" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, ".md") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(r.root, path)
		for _, p := range r.check(filepath.ToSlash(rel), string(b)) {
			t.Error(p)
		}
		files++
		cites += strings.Count(string(b), "spec.md")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 50 || cites < 40 {
		t.Fatalf("walked %d files with %d spec citations: the walk missed the tree", files, cites)
	}
	t.Logf("%d files, %d spec.md mentions checked", files, cites)
}

// TestCheckerCatchesBrokenReferences feeds the checker one broken and one
// sound example of each kind of reference, so that the walk above cannot
// pass by checking nothing. (The examples are built at run time so that
// this file itself cites nothing broken.)
func TestCheckerCatchesBrokenReferences(t *testing.T) {
	r := loadRepo(t)
	sect := "\u00a7"
	docsX := "docs/" + "x" + ".md" // a Markdown file in docs/ (not on disk)
	missing := "missing" + ".md"
	cases := []struct {
		file, text string
		bad        bool
	}{
		{"x.go", "// see docs/" + "spec.md " + sect + "4", false},
		{"x.go", "// see docs/" + "spec.md " + sect + "7.8", false},
		{"x.go", "// see docs/" + "spec.md " + sect + "42", true},
		{"x.go", "// see docs/" + "spec.md " + sect + "7.99", true},
		{"x.go", "// odd (docs/" + "spec.md\n// " + sect + "12)", true},
		{"x.go", "// BIP-9 " + sect + "12 is not a spec citation", false},
		{docsX, "[spec.md](spec.md) (" + sect + "6 and " + sect + "99)", true},
		{docsX, "[spec.md](spec.md) (" + sect + "6 and " + sect + "7)", false},
		{"x.go", "// rules in " + outsideNotes, true},
		{"x.go", "// see docs/" + missing, true},
		{"x.go", "// see docs/" + "cli.md.", false},
		{"x.go", "// https://example.org/docs/" + missing, false},
		{docsX, "[the guide](" + missing + ")", true},
		{"x.go", "// the targets in " + missing + "'s table", true},
		{"x.go", "// see README.md and cli.md", false},
		{"x.go", "// upstream's vectors/" + missing + " names the origin", false},
		{"x.go", "// https://example.org/" + missing, false},
		{docsX, "[the guide](cli.md#keys-and-keystores)", false},
		{docsX, "[keystore](../keystore)", false},
		{docsX, "[up](../../" + "outside)", true},
		{"README.md", "[docs](docs) and [site](https://example.org/missing)", false},
	}
	for _, c := range cases {
		got := r.check(c.file, c.text)
		if (len(got) > 0) != c.bad {
			t.Errorf("%s %q: problems %q, want bad=%v", c.file, c.text, got, c.bad)
		}
	}
	// Section numbering must be consecutive.
	for _, spec := range []string{"## 1. A\n## 3. C\n", "## 1. A\n### 1.2 B\n", "## 1. A\n### 2.1 B\n", "no headings"} {
		if _, err := specSections(spec); err == nil {
			t.Errorf("%q: numbering accepted", spec)
		}
	}
	if s, err := specSections("## 1. A\n### 1.1 B\n### 1.2 C\n## 2. D\n"); err != nil || !s["1.2"] || !s["2"] || s["2.1"] {
		t.Errorf("good numbering: %v %v", s, err)
	}
}
