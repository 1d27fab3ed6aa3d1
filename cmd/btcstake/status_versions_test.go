package main

import (
	"strings"
	"testing"

	"github.com/btcstake/btcstake/regtest"
	"github.com/btcsuite/btcd/btcec/v2"
)

// TestStatusPicksTheVersionOfTheStake: with a params source of several
// versions and no --btc-height, status follows a stake under the version
// in force at its inclusion height (at the tip while unconfirmed), even
// once a later version with another committee is in force.
func TestStatusPicksTheVersionOfTheStake(t *testing.T) {
	w := newNodeWorld(t, regtest.Options{})
	stTx, _ := w.stake(5)
	txid := stTx.TxHash().String()
	tip, err := w.node.Height()
	if err != nil {
		t.Fatal(err)
	}
	// Version 0 is the stake's committee; version 1, from a few blocks
	// above the tip, has another.
	c := w.params.Config()
	c.Tag = nil
	other := c
	other.CovenantKeys = []*btcec.PublicKey{nodeRandKey(w.r).PubKey(), nodeRandKey(w.r).PubKey(), nodeRandKey(w.r).PubKey()}
	switchAt := uint32(tip) + 5
	file := versionsFile(t, t.TempDir(), "versions.json", babylonParams(c, 0), babylonParams(other, switchAt))
	deleg := []string{"--params", file, "--staker-pk", xonlyHex(w.staker), "--fp-pk", xonlyHex(w.fp), "--staking-time", "5", "--txid", txid}
	status := func(extra ...string) (int, stakeStatus, string) {
		t.Helper()
		code, out, errOut := w.cli(append(append([]string{"status", "--json"}, deleg...), extra...)...)
		var s stakeStatus
		if code == 0 {
			s = mustJSON[stakeStatus](t, out)
		}
		return code, s, errOut
	}
	if code, s, errOut := status(); code != 0 || s.State != "unconfirmed" {
		t.Fatalf("unconfirmed: exit %d %+v %s", code, s, errOut)
	}
	w.mine(1)
	if code, s, errOut := status(); code != 0 || s.State != "staked" {
		t.Fatalf("staked: exit %d %+v %s", code, s, errOut)
	}
	// Past the switch, the stake is still version 0's.
	if _, err := w.node.MineTo(int32(switchAt) + 1); err != nil {
		t.Fatal(err)
	}
	if code, s, errOut := status(); code != 0 || s.State != "staked" {
		t.Fatalf("after the switch: exit %d %+v %s", code, s, errOut)
	}
	// --btc-height picks version 1, under which this transaction pays no
	// output of the delegation.
	code, _, errOut := status("--btc-height", "999999")
	t.Logf("under version 1: %s", errOut)
	if code != exitError || !strings.Contains(errOut, "no output pays the staking script") || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
		t.Fatalf("version 1: exit %d %q", code, errOut)
	}
	if code, s, errOut := status("--btc-height", "0"); code != 0 || s.State != "staked" {
		t.Fatalf("--btc-height 0: exit %d %+v %s", code, s, errOut)
	}
}
