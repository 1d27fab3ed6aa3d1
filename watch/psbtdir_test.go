package watch

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/chainhash/v2"
	btcpsbt "github.com/btcsuite/btcd/psbt/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/psbt"
	"github.com/btcstake/btcstake/script"
)

// files writes name -> content into a new directory.
func files(t tb, dir string, fs map[string]string) string {
	t.Helper()
	for name, s := range fs {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// withdrawPSBT is the staker's time-lock withdrawal of f's stake.
func (w *world) withdrawPSBT(t tb, f *entryFixture) *btcpsbt.Packet {
	t.Helper()
	res, err := psbt.BuildWithdraw(psbt.WithdrawRequest{Delegation: f.d, From: script.StakingOutputKind,
		Funding: psbt.Funding{Tx: f.stakingTx, Index: f.index}, DestPkScript: p2wpkh(w.staker.PubKey()), FeeRate: 2000})
	if err != nil {
		t.Fatal(err)
	}
	return res.Packet
}

func mustClone(t tb, p *btcpsbt.Packet) *btcpsbt.Packet {
	t.Helper()
	c, err := clone(p)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// stripTree removes the BIP-371 output fields, as a wallet that does not
// keep them would.
func stripTree(t tb, p *btcpsbt.Packet) *btcpsbt.Packet {
	t.Helper()
	c := mustClone(t, p)
	for i := range c.Outputs {
		c.Outputs[i].TaprootTapTree, c.Outputs[i].TaprootInternalKey = nil, nil
	}
	return c
}

func TestFromPSBTDir(t *testing.T) {
	w := newWorld(t, 40, 2, 3, 2)
	vs := versionsOf(t, w.params)
	f1 := w.delegate(t, []int{0}, 200_000, 1000, false, []int{0, 1})
	f2 := w.delegate(t, []int{1}, 300_000, 2000, false, nil)
	// f2's slashing PSBT signed by one covenant member in each of two
	// files: FromPSBTDir combines them into a quorum.
	sA := w.presign(t, f2.d, script.StakingOutputKind, psbt.Funding{Tx: f2.stakingTx, Index: f2.index}, []int{0}, true)
	sB := w.presign(t, f2.d, script.StakingOutputKind, psbt.Funding{Tx: f2.stakingTx, Index: f2.index}, []int{2}, false)
	dir := files(t, t.TempDir(), map[string]string{
		"stake.psbt":              b64(t, f1.stakingPSBT),
		"unbond.psbt":             b64(t, f1.unbondingPSBT),
		"slash.psbt":              b64(t, f1.slashing),
		"unbonding-slashing.psbt": b64(t, f1.unbondingSlashing),
		"withdraw.psbt":           b64(t, w.withdrawPSBT(t, f1)),
		"stake2.psbt":             b64(t, f2.stakingPSBT),
		"slash2-a.psbt":           b64(t, sA),
		"slash2-b.psbt":           string(serializePacket(t, sB)), // binary
		"notes.txt":               "not read",
	})
	// A secret key file (as the tutorial leaves them, mode 0600): not
	// opened, not an error.
	if err := os.WriteFile(filepath.Join(dir, "cov1.hex"), []byte("ff"), 0o600); err != nil {
		t.Fatal(err)
	}
	es, err := FromPSBTDir(dir, vs)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 2 {
		t.Fatalf("%d entries", len(es))
	}
	e1, e2 := es[0], es[1]
	if e1.ID() != (wire.OutPoint{Hash: f1.stakingTx.TxHash(), Index: f1.index}).String() || e1.Source() != SourcePSBTDir ||
		e1.Delegation().StakingTime != 1000 || e1.UnbondingTx().TxHash() != f1.unbondingTx.TxHash() {
		t.Fatalf("entry 1 %s", e1.ID())
	}
	for _, from := range []script.OutputKind{script.StakingOutputKind, script.UnbondingOutputKind} {
		if _, err := e1.CompleteSlashing(from, w.fps[0]); err != nil {
			t.Fatal(err)
		}
	}
	if e2.Value() != 300_000 || e2.Delegation().StakingTime != 2000 || e2.UnbondingTx() != nil || e2.SlashingPSBT(script.UnbondingOutputKind) != nil {
		t.Fatalf("entry 2 %s", e2.ID())
	}
	tx, err := e2.CompleteSlashing(script.StakingOutputKind, w.fps[1])
	if err != nil {
		t.Fatal(err)
	}
	if err := runScript(tx, 0, f2.stakingTx.TxOut[f2.index]); err != nil {
		t.Fatal(err)
	}
}

func serializePacket(t tb, p *btcpsbt.Packet) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := p.Serialize(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestFromPSBTDirDelegationSources: the keys and the staking time come
// from whichever file has them.
func TestFromPSBTDirDelegationSources(t *testing.T) {
	w := newWorld(t, 41, 1, 3, 2)
	vs := versionsOf(t, w.params)
	f := w.delegate(t, []int{0}, 200_000, 1234, false, []int{0, 1})
	p1 := w.delegate(t, []int{0}, 200_000, 777, true, nil)
	for name, fs := range map[string]map[string]string{
		// The signed staking transaction without any taproot data; the
		// slashing leaf names the parties, its control block the time.
		"tx file and slashing PSBT": {"staking.tx": txHexOf(f.stakingTx) + "\n", "slash.psbt": b64(t, f.slashing)},
		// A staking PSBT a wallet stripped, and the unbonding PSBT (the
		// staker and time) with the slashing PSBT (the providers).
		"stripped staking PSBT": {"stake.psbt": b64(t, stripTree(t, f.stakingPSBT)), "unbond.psbt": b64(t, f.unbondingPSBT), "slash.psbt": b64(t, f.slashing)},
		// A binary .tx file.
		"binary tx file": {"staking.tx": string(serializeTx(t, f.stakingTx)), "slash.psbt": b64(t, f.slashing)},
	} {
		t.Run(name, func(t *testing.T) {
			es, err := FromPSBTDir(files(t, t.TempDir(), fs), vs)
			if err != nil {
				t.Fatal(err)
			}
			if len(es) != 1 || es[0].Delegation().StakingTime != 1234 || es[0].StakingOutPoint().Hash != f.stakingTx.TxHash() {
				t.Fatalf("%d entries", len(es))
			}
		})
	}
	// A phase-1 staking transaction alone: its OP_RETURN says it all.
	es, err := FromPSBTDir(files(t, t.TempDir(), map[string]string{"stake.tx": txHexOf(p1.stakingTx)}), vs)
	if err != nil {
		t.Fatal(err)
	}
	if es[0].Delegation().StakingTime != 777 || script.XOnly(es[0].Delegation().FinalityProviders[0]) != script.XOnly(w.fps[0].PubKey()) {
		t.Fatal("wrong delegation")
	}
}

func TestFromPSBTDirRefusals(t *testing.T) {
	w := newWorld(t, 42, 2, 3, 2)
	vs := versionsOf(t, w.params)
	f := w.delegate(t, []int{0}, 200_000, 1000, false, []int{0, 1})
	g := w.delegate(t, []int{1}, 200_000, 1000, false, []int{0, 1})
	// Another unbonding transaction of f's staking output.
	ub2 := mustClone(t, f.unbondingPSBT)
	ub2.UnsignedTx.LockTime = 1
	// g's slashing leaf pointed at f's staking output.
	foreign := mustClone(t, g.slashing)
	foreign.UnsignedTx.TxIn[0].PreviousOutPoint = wire.OutPoint{Hash: f.stakingTx.TxHash(), Index: f.index}
	// A complete slashing transaction, not a PSBT.
	e := f.entry(t)
	slashed, err := e.CompleteSlashing(script.StakingOutputKind, w.fps[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		fs   map[string]string
		kind error
		text string
	}{
		{"slashing without staking", map[string]string{"slash.psbt": b64(t, f.slashing)}, ErrPSBTDir, "slash.psbt spends the staking output"},
		{"unbonding without staking", map[string]string{"unbond.psbt": b64(t, f.unbondingPSBT), "stake2.psbt": b64(t, g.stakingPSBT)}, ErrPSBTDir, "no staking transaction"},
		{"unbonding slashing without unbonding", map[string]string{"stake.psbt": b64(t, f.stakingPSBT), "unbonding-slashing.psbt": b64(t, f.unbondingSlashing)}, ErrPSBTDir, "the output of no unbonding transaction"},
		{"two unbonding transactions", map[string]string{"stake.psbt": b64(t, f.stakingPSBT), "unbond.psbt": b64(t, f.unbondingPSBT), "unbond2.psbt": b64(t, ub2)}, ErrPSBTDir, "two different unbonding transactions"},
		{"file of no role", map[string]string{"stake.psbt": b64(t, stripTree(t, f.stakingPSBT))}, ErrPSBTDir, "not a transaction of the staking lifecycle"},
		{"slashing tx without PSBT", map[string]string{"stake.psbt": b64(t, f.stakingPSBT), "slash.tx": txHexOf(slashed)}, ErrPSBTDir, "without its PSBT"},
		{"files disagree", map[string]string{"stake.psbt": b64(t, f.stakingPSBT), "slash.psbt": b64(t, foreign)}, ErrPSBTDir, "different finality providers"},
		{"no parties known", map[string]string{"staking.tx": txHexOf(f.stakingTx), "unbond.psbt": b64(t, f.unbondingPSBT)}, ErrPSBTDir, "finality providers"},
		{"not a PSBT", map[string]string{"stake.psbt": "hello"}, ErrInvalidFile, "stake.psbt"},
		{"not a transaction", map[string]string{"stake.tx": "00ff"}, ErrInvalidFile, "stake.tx"},
		{"empty directory", map[string]string{"README": "x"}, ErrPSBTDir, "no .psbt or .tx files"},
		{"too large", map[string]string{"stake.psbt": strings.Repeat("A", MaxInputFileSize+1)}, ErrInvalidFile, "larger than"},
	} {
		t.Run(c.name, func(t *testing.T) {
			es, err := FromPSBTDir(files(t, t.TempDir(), c.fs), vs)
			if es != nil || !errors.Is(err, c.kind) || !strings.Contains(err.Error(), c.text) {
				t.Fatalf("entries %v, err %v", es, err)
			}
		})
	}
	// A symbolic link and a directory named *.psbt are refused, not
	// followed or skipped.
	dir := files(t, t.TempDir(), map[string]string{"stake.psbt": b64(t, f.stakingPSBT)})
	other := files(t, t.TempDir(), map[string]string{"slash.psbt": b64(t, f.slashing)})
	if err := os.Symlink(filepath.Join(other, "slash.psbt"), filepath.Join(dir, "slash.psbt")); err != nil {
		t.Fatal(err)
	}
	if _, err := FromPSBTDir(dir, vs); !errors.Is(err, ErrInvalidFile) || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("err = %v", err)
	}
	dir = files(t, t.TempDir(), map[string]string{"stake.psbt": b64(t, f.stakingPSBT)})
	if err := os.Mkdir(filepath.Join(dir, "more.psbt"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := FromPSBTDir(dir, vs); !errors.Is(err, ErrInvalidFile) {
		t.Fatalf("err = %v", err)
	}
	if _, err := FromPSBTDir(filepath.Join(dir, "none"), vs); !errors.Is(err, ErrInvalidFile) {
		t.Fatalf("err = %v", err)
	}
}

// TestFromPSBTDirNonSegwitStaking: a staking PSBT funded by a P2PKH coin
// has no final txid until it is signed, so it cannot name the delegation.
func TestFromPSBTDirNonSegwitStaking(t *testing.T) {
	w := newWorld(t, 43, 1, 3, 2)
	d := psbt.Delegation{Params: w.params, Staker: w.staker.PubKey(), FinalityProviders: w.fpPubs(0), StakingTime: 1000}
	funder := randKey(w.r)
	pkh := append(append([]byte{0x76, 0xa9, 0x14}, p2wpkh(funder.PubKey())[2:]...), 0x88, 0xac)
	prev := wire.NewMsgTx(2)
	prev.AddTxIn(&wire.TxIn{PreviousOutPoint: wire.OutPoint{Hash: chainhash.Hash{9}}})
	prev.AddTxOut(wire.NewTxOut(400_000, pkh))
	res, err := psbt.BuildStaking(psbt.StakingRequest{Delegation: d, Value: 200_000, FeeRate: 2000, ChangePkScript: pkh,
		UTXOs: []psbt.UTXO{{OutPoint: wire.OutPoint{Hash: prev.TxHash()}, Value: 400_000, PkScript: pkh, PrevTx: prev}}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = FromPSBTDir(files(t, t.TempDir(), map[string]string{"stake.psbt": b64(t, res.Packet)}), versionsOf(t, w.params))
	if !errors.Is(err, ErrPSBTDir) || !strings.Contains(err.Error(), "txid changes when it is signed") {
		t.Fatalf("err = %v", err)
	}
}

func FuzzFromPSBTDir(f *testing.F) {
	w := newWorld(f, 44, 1, 3, 2)
	vs := versionsOf(f, w.params)
	fx := w.delegate(f, []int{0}, 200_000, 1000, false, []int{0, 1})
	stake := b64(f, fx.stakingPSBT)
	f.Add([]byte(b64(f, fx.slashing)))
	f.Add([]byte(b64(f, fx.unbondingPSBT)))
	f.Add(serializePacket(f, fx.unbondingSlashing))
	f.Add([]byte(txHexOf(fx.stakingTx)))
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := files(t, t.TempDir(), map[string]string{"stake.psbt": stake, "x.psbt": string(b)})
		es, err := FromPSBTDir(dir, vs)
		if err != nil {
			for _, k := range []error{ErrInvalidFile, ErrPSBTDir, ErrInvalidEntry, ErrNoParamsVersion} {
				if errors.Is(err, k) {
					return
				}
			}
			t.Fatalf("error of no kind: %v", err)
		}
		for _, e := range es {
			var back Entry
			if err := back.UnmarshalJSON(marshal(t, e)); err != nil {
				t.Fatal(err)
			}
		}
	})
}
