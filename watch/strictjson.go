package watch

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// maxJSONDepth bounds the nesting checkStrictJSON walks.
const maxJSONDepth = 32

// checkStrictJSON refuses what encoding/json lets through silently: an
// object key given twice (json.Unmarshal keeps the last one, so a list
// could say two things at once; the error names the key with its path,
// e.g. `entries[2].staking_tx`), anything after the one JSON value, and
// nesting deeper than maxJSONDepth. Unknown fields are the decoder's
// business (DisallowUnknownFields).
func checkStrictJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := walkJSON(dec, "", 0); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("data after the JSON value")
	}
	return nil
}

func walkJSON(dec *json.Decoder, path string, depth int) error {
	if depth > maxJSONDepth {
		return fmt.Errorf("JSON nested deeper than %d at %s", maxJSONDepth, where(path))
	}
	t, err := dec.Token()
	if err != nil {
		return fmt.Errorf("JSON at %s: %v", where(path), err)
	}
	d, ok := t.(json.Delim)
	if !ok {
		return nil
	}
	switch d {
	case '{':
		seen := make(map[string]bool)
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return fmt.Errorf("JSON at %s: %v", where(path), err)
			}
			k, _ := kt.(string)
			name := k
			if path != "" {
				name = path + "." + k
			}
			if seen[k] {
				return fmt.Errorf("duplicate key %s", strconv.Quote(name))
			}
			seen[k] = true
			if err := walkJSON(dec, name, depth+1); err != nil {
				return err
			}
		}
	case '[':
		for i := 0; dec.More(); i++ {
			if err := walkJSON(dec, fmt.Sprintf("%s[%d]", path, i), depth+1); err != nil {
				return err
			}
		}
	}
	if _, err := dec.Token(); err != nil { // the closing delimiter
		return fmt.Errorf("JSON at %s: %v", where(path), err)
	}
	return nil
}

func where(path string) string {
	if path == "" {
		return "the top level"
	}
	return path
}
