package watch

import (
	"encoding/json"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
)

// docFields is docs/watch.md's events table: for each kind, the fields
// its "fields" column names (every event also has id, kind and seq).
// reorged_out carries the fields of the event it cancels: it is given
// every field any kind names.
var docFields = sync.OnceValues(func() (map[EventKind]map[string]bool, error) {
	raw, err := os.ReadFile("../docs/watch.md")
	if err != nil {
		return nil, err
	}
	text := string(raw)
	start := strings.Index(text, "\n## Events\n")
	if start < 0 {
		return nil, os.ErrNotExist
	}
	text = text[start+1:]
	if end := strings.Index(text[3:], "\n## "); end >= 0 {
		text = text[:end+3]
	}
	row := regexp.MustCompile("(?m)^\\| `([a-z_]+)` \\|(.*)\\|(.*)\\|$")
	name := regexp.MustCompile("`([a-z_]+)`")
	out := map[EventKind]map[string]bool{}
	all := map[string]bool{}
	for _, m := range row.FindAllStringSubmatch(text, -1) {
		fs := map[string]bool{"id": true, "kind": true, "seq": true}
		for _, f := range name.FindAllStringSubmatch(m[3], -1) {
			fs[f[1]] = true
			all[f[1]] = true
		}
		out[EventKind(m[1])] = fs
	}
	if rf := out[EventReorgedOut]; rf != nil {
		for f := range all {
			rf[f] = true
		}
	}
	return out, nil
})

// checkDocumented fails unless every field of every event in got is one
// docs/watch.md's events table lists for the event's kind (an oracle
// independent of the code: the table a consumer reads).
func checkDocumented(t testing.TB, got []Event) {
	t.Helper()
	doc, err := docFields()
	if err != nil {
		t.Fatalf("reading docs/watch.md's events table: %v", err)
	}
	for _, e := range got {
		fs, ok := doc[e.Kind]
		if !ok {
			t.Fatalf("event kind %q is not in docs/watch.md's events table", e.Kind)
		}
		raw, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		var extra []string
		for f := range m {
			if !fs[f] {
				extra = append(extra, f)
			}
		}
		sort.Strings(extra)
		if len(extra) > 0 {
			t.Fatalf("a %s event carries %v, which docs/watch.md does not list for its kind: %s", e.Kind, extra, raw)
		}
	}
}

// TestEventsTableParsed: the table is found and names every kind.
func TestEventsTableParsed(t *testing.T) {
	doc, err := docFields()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []EventKind{EventStakingBroadcast, EventStakingConfirmed, EventStakingDeep, EventUnbondingBroadcast,
		EventUnbondingConfirmed, EventSlashed, EventKeyRecovered, EventTimelockReached, EventWithdrawn, EventExtended,
		EventAutoSlashBroadcast, EventAutoSlashRefused, EventReorg, EventReorgedOut} {
		if len(doc[k]) <= 3 {
			t.Errorf("docs/watch.md's events table lists no field for %s", k)
		}
	}
	if len(doc) != 14 {
		t.Errorf("docs/watch.md's events table has %d kinds, want 14", len(doc))
	}
}

// TestCLIDocListsEveryKind: docs/cli.md's watch section names every kind
// docs/watch.md's events table has.
func TestCLIDocListsEveryKind(t *testing.T) {
	doc, err := docFields()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile("../docs/cli.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	start := strings.Index(text, "\n## watch\n")
	if start < 0 {
		t.Fatal("docs/cli.md has no watch section")
	}
	text = text[start+1:]
	if end := strings.Index(text[3:], "\n## "); end >= 0 {
		text = text[:end+3]
	}
	for k := range doc {
		if !strings.Contains(text, "`"+string(k)+"`") {
			t.Errorf("docs/cli.md's watch section does not name the event kind %s", k)
		}
	}
}
