package script

import (
	"errors"
	"testing"
)

func TestOutputKindNames(t *testing.T) {
	for _, c := range []struct {
		in   string
		want OutputKind
	}{
		{"staking", StakingOutputKind},
		{"unbonding", UnbondingOutputKind},
		{"slashing_change", SlashingChangeOutputKind},
		{"slashing-change", SlashingChangeOutputKind}, // older spelling, input only
	} {
		k, err := ParseOutputKind(c.in)
		if err != nil || k != c.want {
			t.Fatalf("%q: %v, %v", c.in, k, err)
		}
		if back, _ := ParseOutputKind(k.String()); back != k {
			t.Fatalf("%v does not round-trip", k)
		}
	}
	if SlashingChangeOutputKind.String() != "slashing_change" {
		t.Fatalf("spelling %q", SlashingChangeOutputKind.String())
	}
	for _, bad := range []string{"", "Staking", "slashing change", "timelock"} {
		if _, err := ParseOutputKind(bad); !errors.Is(err, ErrInvalidOutputKind) {
			t.Fatalf("%q: %v", bad, err)
		}
	}
}
