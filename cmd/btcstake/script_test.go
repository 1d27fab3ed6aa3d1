package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
	"github.com/spf13/cobra"

	"github.com/btcstake/btcstake/script"
)

// The keys of the script command's --help example.
const (
	exStaker = "662f9c9fbca727ab16bf97e08925ecff743611c8d8cf3c8a991cf9617fe51da5"
	exFP     = "55609672b207598ca05ad232d27ebe7be40cf4fd90746d890b8046f9ff87e08d"
	exCov1   = "8fe47b8f29b755350d4fd2eaaa881887d51caeb9edc030b5a7d94ce2e751da6a"
	exCov2   = "77852b76d2647acaba4f15d946323690fbe225b8849d08d0e8e79adb908710f9"
	exCov3   = "f7204a88a5d9d4b71bcce72b9325d8472f5b482e8c0487d5d11cfdc737a5f613"
)

// runCLI runs the command line in-process.
func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

func exKey(t *testing.T, h string) *btcec.PublicKey {
	b, _ := hex.DecodeString(h)
	k, err := schnorr.ParsePubKey(b)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func scriptArgs(extra ...string) []string {
	return append([]string{"script", "--staker-pk", exStaker, "--fp-pk", exFP,
		"--covenant-pk", exCov1, "--covenant-pk", exCov2, "--covenant-pk", exCov3,
		"--covenant-quorum", "2", "--staking-time", "144", "--unbonding-time", "101"}, extra...)
}

func TestScriptCommandJSONMatchesLibrary(t *testing.T) {
	code, out, errOut := runCLI(t, scriptArgs("--tag", "62627434", "--json")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got scriptJSON
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	p := script.Parties{Staker: exKey(t, exStaker), FinalityProviders: []*btcec.PublicKey{exKey(t, exFP)},
		Covenant: []*btcec.PublicKey{exKey(t, exCov1), exKey(t, exCov2), exKey(t, exCov3)}, CovenantQuorum: 2}
	st, _ := script.NewStakingOutput(p, 144)
	ub, _ := script.NewUnbondingOutput(p, 101)
	ch, _ := script.NewSlashingChangeOutput(p.Staker, 101)
	for _, c := range []struct {
		name string
		o    *script.Output
		j    outputJSON
	}{{"staking", st, got.Staking}, {"unbonding", ub, got.Unbonding}, {"slashing change", ch, got.SlashingChange}} {
		if c.j.PkScript != hex.EncodeToString(c.o.PkScript) {
			t.Errorf("%s pk_script %s", c.name, c.j.PkScript)
		}
		if c.j.Descriptor != c.o.Descriptor() || !strings.HasPrefix(c.j.Address, "bcrt1p") {
			t.Errorf("%s descriptor/address %s %s", c.name, c.j.Descriptor, c.j.Address)
		}
		if len(c.j.Leaves) != len(c.o.Paths) {
			t.Fatalf("%s: %d leaves", c.name, len(c.j.Leaves))
		}
		for i, l := range c.j.Leaves {
			pth := c.o.Paths[i]
			if l.Script != hex.EncodeToString(pth.Script) || l.ControlBlock != hex.EncodeToString(pth.ControlBlock) ||
				l.LeafHash != hex.EncodeToString(pth.LeafHash[:]) || l.Path != pth.Kind.String() {
				t.Errorf("%s leaf %d differs from the library", c.name, i)
			}
		}
	}
	d, _ := script.NewV0StakingData([]byte("bbt4"), p.Staker, p.FinalityProviders, 144)
	if got.OpReturn == nil || got.OpReturn.Script != hex.EncodeToString(d.Script()) {
		t.Errorf("op_return %+v", got.OpReturn)
	}

	// Another network changes the address, never the pkScript.
	_, mainOut, _ := runCLI(t, append(scriptArgs("--json"), "--network", "mainnet")...)
	var m scriptJSON
	if err := json.Unmarshal([]byte(mainOut), &m); err != nil {
		t.Fatal(err)
	}
	if m.Staking.PkScript != got.Staking.PkScript || !strings.HasPrefix(m.Staking.Address, "bc1p") {
		t.Errorf("mainnet: %s %s", m.Staking.PkScript, m.Staking.Address)
	}
	if m.OpReturn != nil {
		t.Error("op_return printed without --tag")
	}
}

func TestScriptCommandText(t *testing.T) {
	code, out, _ := runCLI(t, scriptArgs()...)
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"Staking output (staking time 144 blocks)", "- timelock: the staker alone",
		"- unbonding: the staker with exactly 2 of the 3 covenant members", "- slashing:", "Slashing change output",
		"control block  c1" + script.NUMSKey.String()} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

func TestScriptCommandBadInput(t *testing.T) {
	set := func(flag, val string) []string {
		a := scriptArgs()
		for i := range a {
			if a[i] == flag {
				a[i+1] = val
				return a
			}
		}
		return append(a, flag, val)
	}
	cases := []struct {
		name string
		args []string
		code int
		want string // must appear in the one-line error
	}{
		{"bad hex", set("--staker-pk", "zz"), 2, "--staker-pk"},
		{"key wrong length", set("--staker-pk", exStaker[:62]), 2, "--staker-pk"},
		{"key off curve", set("--fp-pk", "0000000000000000000000000000000000000000000000000000000000000005"), 2, "--fp-pk"},
		{"compressed key bad prefix", set("--covenant-pk", "05"+exCov1), 2, "--covenant-pk"},
		{"missing staker", append([]string{"script"}, scriptArgs()[3:]...), 2, "staker-pk"},
		{"unknown flag", scriptArgs("--bogus"), 2, "bogus"},
		{"unknown network", scriptArgs("--network", "moonnet"), 2, "--network"},
		{"staking time zero", set("--staking-time", "0"), 2, "--staking-time"},
		{"staking time too large", set("--staking-time", "65536"), 2, "--staking-time"},
		{"unbonding time negative", set("--unbonding-time", "-5"), 2, "--unbonding-time"},
		{"quorum not a number", set("--covenant-quorum", "two"), 2, "covenant-quorum"},
		{"quorum zero", set("--covenant-quorum", "0"), 1, "--covenant-quorum"},
		{"quorum above committee", set("--covenant-quorum", "4"), 1, "--covenant-quorum"},
		{"staker is fp", set("--fp-pk", exStaker), 1, "duplicate key"},
		{"covenant key twice", set("--covenant-pk", exCov2), 1, "duplicate key"},
		{"compressed twin of a covenant key", set("--staker-pk", "03"+exCov1), 1, "duplicate key"},
		{"tag wrong length", scriptArgs("--tag", "626274"), 2, "--tag"},
		{"tag with two fps", scriptArgs("--tag", "62627434", "--fp-pk", "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"), 2, "--tag"},
		{"stray argument", scriptArgs("extra"), 2, "unknown command"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, c.args...)
			if code != c.code {
				t.Fatalf("exit %d, want %d (stderr %q)", code, c.code, errOut)
			}
			first := strings.SplitN(errOut, "\n", 2)[0]
			if !strings.HasPrefix(first, "btcstake: error: ") || !strings.Contains(first, c.want) {
				t.Errorf("error line %q lacks %q", first, c.want)
			}
			if out != "" {
				t.Errorf("printed to stdout on error: %q", out)
			}
			if strings.Contains(errOut, "goroutine") || strings.Contains(errOut, "panic") {
				t.Errorf("stack trace: %s", errOut)
			}
		})
	}
}

func TestParseStakingTxCommand(t *testing.T) {
	p := script.Parties{Staker: exKey(t, exStaker), FinalityProviders: []*btcec.PublicKey{exKey(t, exFP)},
		Covenant: []*btcec.PublicKey{exKey(t, exCov1), exKey(t, exCov2), exKey(t, exCov3)}, CovenantQuorum: 2}
	st, _ := script.NewStakingOutput(p, 144)
	d, _ := script.NewV0StakingData([]byte("bbt4"), p.Staker, p.FinalityProviders, 144)
	tx := wire.NewMsgTx(2)
	tx.AddTxIn(&wire.TxIn{PreviousOutPoint: wire.OutPoint{Hash: chainhash.Hash{9}}, Sequence: wire.MaxTxInSequenceNum})
	tx.AddTxOut(wire.NewTxOut(7000, []byte{0x00, 0x14, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}))
	tx.AddTxOut(st.TxOut(250_000))
	tx.AddTxOut(d.TxOut())
	var buf bytes.Buffer
	if err := tx.Serialize(&buf); err != nil {
		t.Fatal(err)
	}
	txHex := hex.EncodeToString(buf.Bytes())
	base := []string{"stake", "parse", "--tag", "62627434", "--covenant-pk", exCov1, "--covenant-pk", exCov2,
		"--covenant-pk", exCov3, "--covenant-quorum", "2"}

	code, out, errOut := runCLI(t, append(base, "--tx", txHex, "--json")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got parsedJSON
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	want := parsedJSON{Txid: tx.TxHash().String(), Staker: exStaker, FinalityProvider: exFP, StakingTime: 144,
		Value: 250_000, StakingOutputIndex: 1, OpReturnIndex: 2, Address: got.Address}
	if got != want || !strings.HasPrefix(got.Address, "bcrt1p") {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	code, out, _ = runCLI(t, append(base, "--tx", txHex)...)
	if code != 0 || !strings.Contains(out, "staked value      250000 sat in output 1") {
		t.Fatalf("text output: %s", out)
	}

	// Failures.
	for _, c := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"other tag", append(base[:2:2], append([]string{"--tx", txHex, "--tag", "78787878"}, base[4:]...)...), 1, "not a staking transaction"},
		{"other committee", append(base[:10:10], "--covenant-pk", exStaker, "--covenant-quorum", "2", "--tx", txHex), 1, "duplicate key"},
		{"truncated tx", append(base, "--tx", txHex[:40]), 2, "--tx"},
		{"trailing bytes", append(base, "--tx", txHex+"00"), 2, "--tx"},
		{"tx not hex", append(base, "--tx", "xyz"), 2, "--tx"},
		{"missing tx", base, 2, "tx"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, _, errOut := runCLI(t, c.args...)
			if code != c.code || !strings.Contains(errOut, c.want) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", code, errOut, c.code, c.want)
			}
		})
	}
}

// TestEveryCommandHasAnExample: the CLI contract asks for a worked example
// in every command's --help.
func TestEveryCommandHasAnExample(t *testing.T) {
	root := newRootCmd(&app{})
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Runnable() && c.Name() != "help" && c.Name() != "completion" && c.Example == "" {
			t.Errorf("%s has no example", c.CommandPath())
		}
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(root)
}

// secretFile writes a secret (a hex key, a password) to a fresh owner-only
// file and returns its path: secrets are never command-line values.
func secretFile(t testing.TB, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(p, []byte(content+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
