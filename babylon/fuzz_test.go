package babylon

import (
	"encoding/json"
	"errors"
	"testing"
)

// FuzzDecodeVersionsPage: any body is either refused with ErrBadResponse or
// accepted as a page whose every item is a {"version", "params": {...}}
// object; nothing panics.
func FuzzDecodeVersionsPage(f *testing.F) {
	f.Add(readTestdata(f, "bbn-1-params-versions.json"))
	f.Add(readTestdata(f, "bbn-1-params.json"))
	f.Add([]byte(`{"params":[],"pagination":{"next_key":"AQ=="}}`))
	f.Add([]byte(`{"params":[{"version":0,"params":{}}],"pagination":null}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		pg, err := decodeVersionsPage(b)
		if err != nil {
			if !errors.Is(err, ErrBadResponse) {
				t.Fatalf("error of another kind: %v", err)
			}
			return
		}
		for i, it := range pg.items {
			var sp map[string]json.RawMessage
			var inner map[string]json.RawMessage
			if json.Unmarshal(it, &sp) != nil || json.Unmarshal(sp["params"], &inner) != nil || inner == nil {
				t.Fatalf("item %d accepted: %s", i, it)
			}
		}
	})
}
