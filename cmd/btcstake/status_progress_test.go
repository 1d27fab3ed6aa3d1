//go:build linux

package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2/schnorr"

	"github.com/btcstake/btcstake/regtest"
)

// TestStatusProgressOnATerminal: status catching up over 30 blocks shows
// one progress line on a terminal's stderr, counting the blocks it reads
// from the stake's block to the tip, cleared when done; asked again, it
// reads nothing and shows nothing; under --json the terminal gets nothing.
func TestStatusProgressOnATerminal(t *testing.T) {
	t.Setenv(statusDirEnv, t.TempDir())
	n := regtest.NewTestNode(t, regtest.Options{NoTxIndex: true})
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	sc, err := regtest.NewScenario(n, regtest.ScenarioConfig{Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(sc.Params)
	paramsFile := filepath.Join(t.TempDir(), "params.json")
	if err := os.WriteFile(paramsFile, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := sc.Stake(regtest.StakeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Mine(30); err != nil {
		t.Fatal(err)
	}
	tip, _ := n.Height()
	args := []string{"status", "--staking-tx", txHex(st.Tx), "--params", paramsFile,
		"--staker-pk", hex.EncodeToString(schnorr.SerializePubKey(sc.Staker.PubKey())),
		"--fp-pk", hex.EncodeToString(schnorr.SerializePubKey(sc.FinalityProviders[0].PubKey())),
		"--staking-time", strconv.Itoa(int(sc.StakingTime))}
	onTerminal := func(extra ...string) (code int, stdout, terminal string) {
		master, slave := openPTY(t)
		read := make(chan []byte, 1)
		go func() {
			b, _ := io.ReadAll(master) // until the slave closes (EIO)
			read <- b
		}()
		var out bytes.Buffer
		code = run(append(append(append([]string{}, args...), extra...), noIndexConn(t, n)...), &out, slave)
		slave.Close()
		return code, out.String(), string(<-read)
	}
	code, out, term := onTerminal()
	want := fmt.Sprintf("following stake %s: block %d (%d of %d read)", st.Txid, tip, tip-st.Height+1, tip-st.Height+1)
	if code != 0 || !strings.Contains(out, "state: staked") || !strings.Contains(term, want) || !strings.HasSuffix(term, "\r\x1b[K") {
		t.Fatalf("status: exit %d %q\nterminal %q\nwant %q", code, out, term, want)
	}
	// The cache holds the stake: nothing to read, nothing shown.
	code, out, term = onTerminal()
	if code != 0 || !strings.Contains(out, "state: staked") || term != "" {
		t.Fatalf("status again: exit %d %q; terminal %q", code, out, term)
	}
	if _, err := n.Mine(5); err != nil {
		t.Fatal(err)
	}
	code, out, term = onTerminal("--json")
	if code != 0 || !strings.Contains(out, `"state": "staked"`) || term != "" {
		t.Fatalf("status --json: exit %d %q; terminal %q", code, out, term)
	}
}
