// Package strictjson decodes the JSON documents this project defines (params
// files, the CLI's config file, the regtest state file, keystores, the
// proofs "btcstake prove" writes) strictly: a document is exactly one JSON
// value, in UTF-8, with no object key given twice at any depth, and nothing
// after it but white space.
//
// encoding/json alone accepts a key given twice and keeps the last value,
// so a params file with "unbonding_time_blocks" twice builds a different
// unbonding output than the one its reader sees first; it also matches
// keys to struct fields without regard to case, so "Unbonding_Time_Blocks"
// and "unbonding_time_blocks" land in the same field. Check refuses both:
// keys are compared as encoding/json compares them (Unicode case folding).
//
// Errors wrap one of ErrSyntax, ErrDuplicateKey, ErrTrailingData or
// ErrUnknownField and name the key and its path ($.params[2].tag).
package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

var (
	// ErrSyntax: not one well-formed JSON value in UTF-8 (or nested
	// deeper than MaxDepth).
	ErrSyntax = errors.New("malformed JSON")
	// ErrDuplicateKey: an object gives the same key twice (compared with
	// case folding, as encoding/json matches keys to fields).
	ErrDuplicateKey = errors.New("duplicate JSON key")
	// ErrTrailingData: something other than white space after the value.
	ErrTrailingData = errors.New("data after the JSON value")
	// ErrUnknownField: Decode met a key the target type has no field for.
	ErrUnknownField = errors.New("unknown JSON field")
)

// MaxDepth bounds the nesting of arrays and objects (encoding/json's own
// limit).
const MaxDepth = 10000

// Check verifies that b is exactly one JSON value in UTF-8, no object of
// which repeats a key, followed by nothing but white space.
func Check(b []byte) error {
	if !utf8.Valid(b) {
		return fmt.Errorf("%w: not UTF-8 text (at byte %d)", ErrSyntax, invalidUTF8At(b))
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber() // numbers stay text: no float conversion to fail
	// stack holds one frame per open array or object.
	type frame struct {
		object bool
		keys   map[string]string // folded key -> key as written
		key    string            // object: the last key read
		index  int               // array: the index of the next element
		expect bool              // object: the next token is a key
	}
	var stack []*frame
	// where names the innermost open container: the position each outer
	// container is at (a key, or an index).
	where := func() string {
		var sb strings.Builder
		sb.WriteString("$")
		for _, f := range stack[:max(len(stack)-1, 0)] {
			if f.object {
				sb.WriteString(keyStep(f.key))
			} else {
				sb.WriteString("[" + strconv.Itoa(f.index-1) + "]")
			}
		}
		return sb.String()
	}
	// value notes that a value (scalar or container) starts in the
	// innermost container.
	value := func() {
		if n := len(stack); n > 0 {
			top := stack[n-1]
			if top.object {
				top.expect = true
			} else {
				top.index++
			}
		}
	}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			if len(stack) != 0 {
				return fmt.Errorf("%w: the document ends inside %s", ErrSyntax, where())
			}
			return fmt.Errorf("%w: empty document", ErrSyntax)
		}
		if err != nil {
			return fmt.Errorf("%w: %v (at byte %d)", ErrSyntax, err, dec.InputOffset())
		}
		if n := len(stack); n > 0 && stack[n-1].object && stack[n-1].expect {
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:n-1]
			} else {
				key := tok.(string) // the decoder allows only a string here
				top := stack[n-1]
				folded := foldKey(key)
				if first, dup := top.keys[folded]; dup {
					if first == key {
						return fmt.Errorf("%w: %q given twice in %s", ErrDuplicateKey, key, where())
					}
					return fmt.Errorf("%w: %q and %q are the same key in %s (keys match without regard to case)", ErrDuplicateKey, first, key, where())
				}
				top.keys[folded] = key
				top.key = key
				top.expect = false
				continue
			}
		} else if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{', '[':
				value()
				if len(stack) >= MaxDepth {
					return fmt.Errorf("%w: nested deeper than %d", ErrSyntax, MaxDepth)
				}
				f := &frame{object: d == '{', expect: d == '{'}
				if f.object {
					f.keys = map[string]string{}
				}
				stack = append(stack, f)
			case ']', '}':
				stack = stack[:len(stack)-1]
			}
		} else {
			value()
		}
		if len(stack) == 0 {
			break
		}
	}
	// One value read: only white space may follow.
	end := int(dec.InputOffset())
	if rest := bytes.TrimLeft(b[end:], " \t\r\n"); len(rest) > 0 {
		return fmt.Errorf("%w: at byte %d", ErrTrailingData, len(b)-len(rest))
	}
	return nil
}

// keyStep is the path step of an object key: .key for a plain name,
// ["key"] otherwise.
func keyStep(key string) string {
	plain := key != ""
	for _, r := range key {
		if !(r == '_' || r == '-' || '0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z') {
			plain = false
		}
	}
	if plain {
		return "." + key
	}
	return "[" + strconv.Quote(key) + "]"
}

// foldKey maps s to a canonical form that two keys share exactly when
// strings.EqualFold (Unicode simple folding, encoding/json's key matching)
// holds for them: every rune becomes the smallest rune of its folding
// orbit.
func foldKey(s string) string {
	var sb strings.Builder
	sb.Grow(len(s))
	for _, r := range s {
		min := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if f < min {
				min = f
			}
		}
		sb.WriteRune(min)
	}
	return sb.String()
}

// invalidUTF8At returns the offset of the first byte that is not UTF-8.
func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(b)
}

// Decode checks b (Check) and decodes it into v, refusing keys v has no
// field for (ErrUnknownField, naming the key). Other decoding errors (a
// string where a number belongs, a number out of range) wrap ErrSyntax.
func Decode(b []byte, v any) error {
	if err := Check(b); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if key, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return fmt.Errorf("%w: %s", ErrUnknownField, key)
		}
		return fmt.Errorf("%w: %v", ErrSyntax, err)
	}
	return nil
}

// Unmarshal checks b (Check) and decodes it into v as json.Unmarshal does,
// tolerating keys v has no field for (for formats defined elsewhere that
// grow fields over time). Decoding errors wrap ErrSyntax.
func Unmarshal(b []byte, v any) error {
	if err := Check(b); err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%w: %v", ErrSyntax, err)
	}
	return nil
}
