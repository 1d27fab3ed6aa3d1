package main

import (
	"encoding/hex"
	"strings"

	"github.com/btcstake/btcstake/script"
	"github.com/btcsuite/btcd/btcec/v2"
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

// parsePubKey parses a key flag with the project's one parser
// (script.ParsePublicKey: 32 bytes x-only or 33 compressed).
func parsePubKey(flag, s string) (*btcec.PublicKey, error) {
	b, err := parseHex(flag, s)
	if err != nil {
		return nil, err
	}
	k, err := script.ParsePublicKey(b)
	if err != nil {
		return nil, usagef(flag, "%v", err)
	}
	return k, nil
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
