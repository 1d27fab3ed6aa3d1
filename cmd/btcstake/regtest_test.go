package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/regtest"
)

func runRegtestCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// TestRegtestCLI drives start, mine, fund and stop in-process against a
// real node, checking each result through the regtest package.
func TestRegtestCLI(t *testing.T) {
	dir := t.TempDir()
	// Whatever happens, do not leave the background node running.
	t.Cleanup(func() {
		if st, err := regtest.LoadState(filepath.Join(dir, "state.json")); err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if n, err := regtest.Attach(ctx, st); err == nil {
				if t.Failed() {
					t.Logf("node log (last 40 lines):\n%s", n.LogTail(40))
				}
				_ = n.Stop()
			}
		}
	})

	code, stdout, stderr := runRegtestCLI(t, "regtest", "start", "--dir", dir, "--json")
	if code != exitOK {
		t.Fatalf("start: exit %d: %s", code, stderr)
	}
	var started regtestStartJSON
	if err := json.Unmarshal([]byte(stdout), &started); err != nil {
		t.Fatalf("start --json: %v: %s", err, stdout)
	}
	if !strings.HasPrefix(started.RPCHost, "127.0.0.1:") || started.RPCUser == "" || started.RPCPass == "" ||
		started.Pid <= 0 || started.Height != regtest.DefaultInitialBlocks || started.StateFile != filepath.Join(dir, "state.json") {
		t.Fatalf("start --json = %+v", started)
	}
	if strings.Contains(stdout, "mining_key") {
		t.Fatal("start prints the mining key")
	}
	fi, err := os.Stat(started.StateFile)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("state file: %v, %v; want mode 0600", fi, err)
	}

	// The node outlives the command: reach it through the state file.
	st, err := regtest.LoadState(started.StateFile)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n, err := regtest.Attach(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()

	if code, _, stderr := runRegtestCLI(t, "regtest", "start", "--dir", dir); code != exitError || !strings.Contains(stderr, "already running") {
		t.Fatalf("second start: exit %d: %s", code, stderr)
	}

	code, stdout, stderr = runRegtestCLI(t, "regtest", "mine", "3", "--dir", dir, "--json")
	if code != exitOK {
		t.Fatalf("mine: exit %d: %s", code, stderr)
	}
	var mined struct {
		Height int32    `json:"height"`
		Blocks []string `json:"block_hashes"`
	}
	if err := json.Unmarshal([]byte(stdout), &mined); err != nil || len(mined.Blocks) != 3 || mined.Height != regtest.DefaultInitialBlocks+3 {
		t.Fatalf("mine --json: %+v, %v", mined, err)
	}
	tipHash, err := n.GetBlockHash(mined.Height)
	if err != nil || tipHash.String() != mined.Blocks[2] {
		t.Fatalf("node tip %s, CLI says %s (%v)", tipHash, mined.Blocks[2], err)
	}

	// Fund an address, confirmed.
	key, _ := btcec.NewPrivateKey()
	addr, err := address.NewAddressTaproot(schnorr.SerializePubKey(txscript.ComputeTaprootKeyNoScript(key.PubKey())), &chaincfg.RegressionNetParams)
	if err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = runRegtestCLI(t, "regtest", "fund", "--dir", dir, "--address", addr.EncodeAddress(), "--amount", "123456", "--confirm", "--json")
	if code != exitOK {
		t.Fatalf("fund --address: exit %d: %s", code, stderr)
	}
	var funded regtestFundJSON
	if err := json.Unmarshal([]byte(stdout), &funded); err != nil {
		t.Fatal(err)
	}
	pk, _ := txscript.PayToAddrScript(addr)
	checkFunded(t, n, funded, pk, 123456, 1)

	// Fund a raw script twice without mining: the second command (a new
	// process, as far as the wallet knows) must not reuse the first's coin.
	for i, amount := range []string{"1000", "2000"} {
		code, stdout, stderr = runRegtestCLI(t, "regtest", "fund", "--dir", dir, "--pkscript", "0014"+strings.Repeat("ab", 20), "--amount", amount)
		if code != exitOK {
			t.Fatalf("fund --pkscript #%d: exit %d: %s", i, code, stderr)
		}
		line := strings.SplitN(stdout, "\n", 2)[0]
		op, err := parseOutpoint(line)
		if err != nil {
			t.Fatalf("fund printed %q: %v", stdout, err)
		}
		out, err := n.GetTxOut(op)
		if err != nil || out.Confirmations != 0 || out.Value != map[int]int64{0: 1000, 1: 2000}[i] {
			t.Fatalf("funded output %v: %+v, %v", op, out, err)
		}
	}

	// Command-line mistakes are usage errors (exit 2) and touch nothing.
	for _, args := range [][]string{
		{"regtest", "fund", "--dir", dir, "--amount", "1000"},
		{"regtest", "fund", "--dir", dir, "--amount", "1000", "--address", addr.EncodeAddress(), "--pkscript", "51"},
		{"regtest", "fund", "--dir", dir, "--amount", "0", "--pkscript", "51"},
		{"regtest", "fund", "--dir", dir, "--amount", "1000", "--pkscript", "zz"},
		{"regtest", "fund", "--dir", dir, "--amount", "1000", "--address", "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx"},
		{"regtest", "fund", "--dir", dir, "--pkscript", "51"},
		{"regtest", "mine", "--dir", dir},
		{"regtest", "mine", "0", "--dir", dir},
		{"regtest", "mine", "x", "--dir", dir},
		{"regtest", "mine", "1", "--dir", dir, "--network", "mainnet"},
		{"regtest", "start", "--dir", dir, "--node", "litecoind"},
		{"regtest", "stop", "extra", "--dir", dir},
	} {
		if code, _, stderr := runRegtestCLI(t, args...); code != exitUsage || !strings.HasPrefix(stderr, "btcstake: error: ") {
			t.Errorf("%v: exit %d, stderr %q; want exit 2", args, code, stderr)
		}
	}
	if h, err := n.Height(); err != nil || h != mined.Height+1 {
		t.Fatalf("height %d (%v) after the usage errors, want %d", h, err, mined.Height+1)
	}

	code, stdout, stderr = runRegtestCLI(t, "regtest", "status", "--dir", dir, "--json")
	if code != exitOK {
		t.Fatalf("status: exit %d: %s", code, stderr)
	}
	var status struct {
		regtestStartJSON
		Spendable int64 `json:"spendable_sat"`
		Immature  int64 `json:"immature_sat"`
	}
	if err := json.Unmarshal([]byte(stdout), &status); err != nil {
		t.Fatal(err)
	}
	spendable, immature, err := n.Balance()
	if err != nil {
		t.Fatal(err)
	}
	if status.Height != mined.Height+1 || status.RPCHost != started.RPCHost || status.RPCUser != started.RPCUser || status.RPCPass != started.RPCPass || status.Spendable != spendable || status.Immature != immature {
		t.Fatalf("status = %+v; want height %d, rpc %s, balance %d/%d", status, mined.Height+1, started.RPCHost, spendable, immature)
	}

	code, stdout, stderr = runRegtestCLI(t, "regtest", "stop", "--dir", dir)
	if code != exitOK || !strings.Contains(stdout, "stopped") {
		t.Fatalf("stop: exit %d: %s %s", code, stdout, stderr)
	}
	if _, err := n.Height(); err == nil {
		t.Fatal("node still answers after stop")
	}
	if _, err := os.Stat(started.StateFile); !os.IsNotExist(err) {
		t.Fatalf("state file left after stop: %v", err)
	}
	if _, err := os.Stat(started.DataDir); !os.IsNotExist(err) {
		t.Fatalf("data dir left after stop: %v", err)
	}
	for _, args := range [][]string{{"regtest", "stop", "--dir", dir}, {"regtest", "mine", "1", "--dir", dir}, {"regtest", "status", "--dir", dir}} {
		if code, _, stderr := runRegtestCLI(t, args...); code != exitError || !strings.Contains(stderr, "no regtest node is running") {
			t.Errorf("%v without a node: exit %d: %s", args, code, stderr)
		}
	}
}

func checkFunded(t *testing.T, n *regtest.Node, f regtestFundJSON, pk []byte, amount int64, confs int64) {
	t.Helper()
	op, err := parseOutpoint(f.Outpoint)
	if err != nil || op.Hash.String() != f.Txid || op.Index != f.Vout || f.Value != amount {
		t.Fatalf("fund --json = %+v (%v)", f, err)
	}
	out, err := n.GetTxOut(op)
	if err != nil {
		t.Fatal(err)
	}
	if out.Value != amount || !bytes.Equal(out.PkScript, pk) || out.Confirmations != confs {
		t.Fatalf("funded output %+v, want %d sat to %x with %d confirmations", out, amount, pk, confs)
	}
}

func parseOutpoint(s string) (wire.OutPoint, error) {
	var op wire.OutPoint
	txid, vout, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok {
		return op, os.ErrInvalid
	}
	h, err := chainhash.NewHashFromStr(txid)
	if err != nil {
		return op, err
	}
	var v uint32
	if err := json.Unmarshal([]byte(vout), &v); err != nil {
		return op, err
	}
	return wire.OutPoint{Hash: *h, Index: v}, nil
}

// TestRegtestHelp: every regtest command documents itself with an example.
func TestRegtestHelp(t *testing.T) {
	for _, sub := range []string{"", "start", "status", "stop", "mine", "fund"} {
		args := []string{"regtest"}
		if sub != "" {
			args = append(args, sub)
		}
		code, stdout, _ := runRegtestCLI(t, append(args, "--help")...)
		if code != exitOK || !strings.Contains(stdout, "Examples:") || !strings.Contains(stdout, "--dir") {
			t.Errorf("%v --help: exit %d, output lacks an example or --dir:\n%s", args, code, stdout)
		}
	}
}

func TestDefaultRegtestDir(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", "/x/state")
	if got := defaultRegtestDir(); got != filepath.Join("/x/state", "btcstake", "regtest") {
		t.Fatalf("got %s", got)
	}
}
