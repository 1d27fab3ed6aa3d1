package main

// How a flag that takes a transaction or a PSBT (--tx, --staking-tx,
// --funding-tx, --prev-tx, --psbt) reads its value. The rules, in order:
//
//  1. "-" reads standard input (once per command line).
//  2. "@PATH" reads the file PATH, whatever PATH looks like.
//  3. A value that is the thing itself is taken literally: for a
//     transaction, hex digits only (an optional 0x prefix, surrounding
//     space ignored); for a PSBT, base64 starting "cHNidP" (the encoding
//     of the PSBT magic "psbt\xff").
//  4. Anything else is the path of a file.
//
// Base64 never starts with "@" or "-" and hex is never "-", so every value
// has exactly one reading; a file whose name is all hex digits or starts
// with "cHNidP" is read with "@name" or "./name". A file or standard input
// holds a transaction as hex (surrounding space ignored) or in binary, a
// PSBT as base64 (wrapped over lines or not) or in binary (BIP-174). Reads
// stop at maxInputSize.

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"strings"

	btcpsbt "github.com/btcsuite/btcd/psbt/v2"
	"github.com/btcsuite/btcd/wire/v2"
	"github.com/spf13/cobra"

	"github.com/btcstake/btcstake/psbt"
)

// maxInputSize bounds what a transaction or PSBT flag reads from a file or
// standard input: far above any standard transaction (400,000 weight
// units, 800 KB of hex) or a PSBT carrying several previous transactions.
const maxInputSize = 8 << 20

// inputFlags names the flags that read a transaction or a PSBT with the
// rules above; the root command adds the rule to their help.
var inputFlags = map[string]bool{"tx": true, "staking-tx": true, "funding-tx": true, "prev-tx": true, "psbt": true}

// inputFlagHelp is appended to the help of every flag in inputFlags.
const inputFlagHelp = " (or a file: PATH, @PATH, - for stdin)"

// stdinSource is what "-" reads; stdinUsedBy names the flag that read it
// in the current command line (run clears it), so a second "-" is refused
// instead of reading nothing.
var (
	stdinSource io.Reader = os.Stdin
	stdinUsedBy string
)

// readInput returns the bytes behind a transaction or PSBT flag value v and
// whether v was the literal value (rules 1-4 above). isLiteral recognises
// the literal form of the flag's kind.
// what names the literal form in errors ("a hex transaction").
func readInput(flag, what, v string, isLiteral func(string) bool) ([]byte, bool, error) {
	t := strings.TrimSpace(v)
	switch {
	case t == "":
		return nil, false, usagef(flag, "empty value")
	case t == "-":
		b, err := readStdinFlag(flag, maxInputSize)
		if err != nil {
			return nil, false, err
		}
		if len(bytes.TrimSpace(b)) == 0 {
			return nil, false, usagef(flag, "reading standard input: empty")
		}
		return b, false, nil
	case strings.HasPrefix(t, "@"):
		return readInputFile(flag, what, t[1:], true)
	case isLiteral(t):
		return []byte(t), true, nil
	}
	return readInputFile(flag, what, t, false)
}

// readInputFile reads a file named by a flag. explicit says the user marked
// it as a file with "@"; otherwise a missing file may be a mistyped value,
// which is not echoed (it might be a secret pasted into the wrong flag).
func readInputFile(flag, what, path string, explicit bool) ([]byte, bool, error) {
	if _, err := os.Stat(path); !explicit && errors.Is(err, os.ErrNotExist) {
		return nil, false, usagef(flag, "neither a readable file nor %s (%d characters)", what, len(path))
	}
	b, err := readFileFlag(flag, path, maxInputSize, 0)
	if err != nil {
		return nil, false, err
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, false, usagef(flag, "%s: empty", path)
	}
	return b, false, nil
}

// isHexText reports whether s is hex digits only, after an optional 0x.
func isHexText(s string) bool {
	s = strings.TrimPrefix(s, "0x")
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// isBase64PSBT reports whether s looks like a base64 PSBT.
func isBase64PSBT(s string) bool { return strings.HasPrefix(s, "cHNidP") }

// parseTxHex reads a transaction flag (hex, a file, @file or - for stdin,
// see the rules above) and decodes the transaction.
func parseTxHex(flag, s string) (*wire.MsgTx, error) {
	data, literal, err := readInput(flag, "a hex transaction", s, isHexText)
	if err != nil {
		return nil, err
	}
	raw := data
	if text := strings.TrimSpace(string(data)); literal || isHexText(text) {
		if raw, err = hex.DecodeString(strings.TrimPrefix(text, "0x")); err != nil {
			return nil, usagef(flag, "not hex: %v", err)
		}
	}
	tx := wire.NewMsgTx(2)
	r := bytes.NewReader(raw)
	if err := tx.Deserialize(r); err != nil {
		return nil, usagef(flag, "not a bitcoin transaction (hex or binary): %v", err)
	}
	if r.Len() != 0 {
		return nil, usagef(flag, "%d bytes left over after the transaction", r.Len())
	}
	return tx, nil
}

// readPSBT reads a PSBT flag (base64, a file, @file or - for stdin, see the
// rules above): base64, possibly wrapped over lines, or binary.
func readPSBT(flag, v string) (*btcpsbt.Packet, error) {
	data, _, err := readInput(flag, "a base64 PSBT", v, isBase64PSBT)
	if err != nil {
		return nil, err
	}
	if !bytes.HasPrefix(data, []byte("psbt\xff")) {
		data = bytes.Join(bytes.Fields(data), nil)
	}
	p, err := psbt.Decode(data)
	if err != nil {
		return nil, usagef(flag, "%v", err)
	}
	return p, nil
}

// describeInputFlags appends the reading rules to the help of every
// transaction and PSBT flag under cmd, so each says the same thing
// whichever file defines it.
func describeInputFlags(cmd *cobra.Command) {
	for _, c := range cmd.Commands() {
		describeInputFlags(c)
	}
	fs := cmd.Flags()
	for name := range inputFlags {
		if f := fs.Lookup(name); f != nil && !strings.Contains(f.Usage, "stdin") {
			f.Usage += inputFlagHelp
		}
	}
}
