package main

import (
	"encoding/hex"
	"strings"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/spf13/cobra"
)

// parseHex decodes a hex flag value, tolerating an optional 0x prefix.
func parseHex(flag, s string) ([]byte, error) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "0x")
	if s == "" {
		return nil, usagef(flag, "empty value")
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, usagef(flag, "not hex: %v", err)
	}
	return b, nil
}

// parseHexAs decodes a hex flag value and parses it with parse; a parse
// failure is a usage error naming the flag.
func parseHexAs[T any](flag, s string, parse func([]byte) (T, error)) (T, error) {
	var zero T
	b, err := parseHex(flag, s)
	if err != nil {
		return zero, err
	}
	v, err := parse(b)
	if err != nil {
		return zero, usagef(flag, "%v", err)
	}
	return v, nil
}

// completeValues offers values as the shell completions of flag (cobra's
// __complete), so enumerated flags complete like commands do.
func completeValues(cmd *cobra.Command, flag string, values ...string) {
	_ = cmd.RegisterFlagCompletionFunc(flag, func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return values, cobra.ShellCompDirectiveNoFileComp
	})
}

// parsePubKey accepts a 32-byte x-only or a 33-byte compressed public key.
func parsePubKey(flag, s string) (*btcec.PublicKey, error) {
	b, err := parseHex(flag, s)
	if err != nil {
		return nil, err
	}
	switch len(b) {
	case 32:
		k, err := schnorr.ParsePubKey(b)
		if err != nil {
			return nil, usagef(flag, "not a valid x-only public key (no curve point has this x coordinate)")
		}
		return k, nil
	case 33:
		k, err := btcec.ParsePubKey(b)
		if err != nil {
			return nil, usagef(flag, "not a valid compressed public key: %v", err)
		}
		return k, nil
	}
	return nil, usagef(flag, "public key must be 32 bytes x-only or 33 bytes compressed, got %d bytes", len(b))
}

// parsePubKeys parses a repeatable key flag.
func parsePubKeys(flag string, vals []string) ([]*btcec.PublicKey, error) {
	keys := make([]*btcec.PublicKey, 0, len(vals))
	for _, v := range vals {
		k, err := parsePubKey(flag, v)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, nil
}
