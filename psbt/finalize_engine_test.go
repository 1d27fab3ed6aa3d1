package psbt

import (
	"errors"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/psbt/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/script"
)

// finalizeWithEngine is Finalize as it was before its own leaf checks: the
// same witness assembly (finalizeTapscript), then btcd's script engine over
// every input (VerifyTx). It is the oracle of
// TestFinalizeMatchesEngineOnMutatedPackets.
func finalizeWithEngine(p *psbt.Packet) (built bool, engineErr error) {
	cp := *p
	cp.Inputs = append([]psbt.PInput(nil), p.Inputs...)
	if _, err := finalizeTapscript(&cp, 0); err != nil {
		return false, err
	}
	tx, err := psbt.Extract(&cp)
	if err != nil {
		return false, err
	}
	return true, VerifyTx(tx, &cp)
}

// TestFinalizeMatchesEngineOnMutatedPackets: slashing, unbonding and
// withdrawal PSBTs are changed where a packet can lie or err about the
// spend (the leaf's control block: a path byte, the internal key, the
// parity bit, the leaf version; another leaf of the output; the spent
// output's script and value; the input's sequence; the transaction's
// version and lock time), then signed by every key the leaf takes, as a
// careless or hostile packet would be. Finalize, which checks staking-leaf
// spends itself, must succeed exactly when btcd's script engine accepts
// the witness the same assembly builds, and fail with
// ErrScriptValidation where the engine refuses.
func TestFinalizeMatchesEngineOnMutatedPackets(t *testing.T) {
	r := newRand(t)
	w := newWorld(t, r, 2, 5, 3)
	stTx, d := w.stake(t, 300_000, 150)
	st, err := d.StakingOutput()
	if err != nil {
		t.Fatal(err)
	}
	f := Funding{stTx, outputIndex(stTx, st)}
	build := map[string]func() *psbt.Packet{
		"slashing": func() *psbt.Packet {
			res, err := BuildSlashing(d, script.StakingOutputKind, f)
			if err != nil {
				t.Fatal(err)
			}
			return res.Packet
		},
		"unbonding": func() *psbt.Packet {
			res, err := BuildUnbonding(d, f)
			if err != nil {
				t.Fatal(err)
			}
			return res.Packet
		},
		"withdraw": func() *psbt.Packet {
			res, err := BuildWithdraw(WithdrawRequest{Delegation: d, From: script.StakingOutputKind, Funding: f,
				DestPkScript: p2tr(randKey(r)), FeeRate: 1000})
			if err != nil {
				t.Fatal(err)
			}
			return res.Packet
		},
	}
	otherPath := map[string]script.PathKind{"slashing": script.UnbondingPath, "unbonding": script.SlashingPath, "withdraw": script.UnbondingPath}
	spent := func(p *psbt.Packet) *wire.TxOut {
		in := &p.Inputs[0]
		in.NonWitnessUtxo = nil // so that witness_utxo alone states the spent output
		in.WitnessUtxo = &wire.TxOut{Value: in.WitnessUtxo.Value, PkScript: append([]byte(nil), in.WitnessUtxo.PkScript...)}
		return in.WitnessUtxo
	}
	cb := func(p *psbt.Packet) []byte {
		ls := p.Inputs[0].TaprootLeafScript[0]
		c := *ls
		c.ControlBlock = append([]byte(nil), ls.ControlBlock...)
		p.Inputs[0].TaprootLeafScript = []*psbt.TaprootTapLeafScript{&c}
		return c.ControlBlock
	}
	mutations := map[string]func(kind string, p *psbt.Packet){
		"none":               func(string, *psbt.Packet) {},
		"control block path": func(_ string, p *psbt.Packet) { c := cb(p); c[len(c)-1-r.Intn(32)] ^= 1 << r.Intn(8) },
		"internal key":       func(_ string, p *psbt.Packet) { c := cb(p); c[1+r.Intn(32)] ^= 1 << r.Intn(8) },
		"parity bit":         func(_ string, p *psbt.Packet) { cb(p)[0] ^= 1 },
		"leaf version 0xc2":  func(_ string, p *psbt.Packet) { c := cb(p); c[0] = 0xc2 | c[0]&1 },
		"another leaf": func(kind string, p *psbt.Packet) {
			path, err := st.Path(otherPath[kind])
			if err != nil {
				t.Fatal(err)
			}
			p.Inputs[0].TaprootLeafScript = []*psbt.TaprootTapLeafScript{{
				ControlBlock: append([]byte(nil), path.ControlBlock...), Script: append([]byte(nil), path.Script...),
				LeafVersion: p.Inputs[0].TaprootLeafScript[0].LeafVersion}}
		},
		"spent output another key": func(_ string, p *psbt.Packet) { spent(p).PkScript = p2tr(randKey(r)) },
		"spent output p2wpkh":      func(_ string, p *psbt.Packet) { spent(p).PkScript = p2wpkh(randKey(r)) },
		"spent value":              func(_ string, p *psbt.Packet) { spent(p).Value += 1 + r.Int63n(1000) },
		"sequence one short":       func(_ string, p *psbt.Packet) { p.UnsignedTx.TxIn[0].Sequence = 149 },
		"sequence lock disabled":   func(_ string, p *psbt.Packet) { p.UnsignedTx.TxIn[0].Sequence |= 1 << 31 },
		"sequence in time":         func(_ string, p *psbt.Packet) { p.UnsignedTx.TxIn[0].Sequence |= 1 << 22 },
		"sequence above":           func(_ string, p *psbt.Packet) { p.UnsignedTx.TxIn[0].Sequence = 151 },
		"version 1":                func(_ string, p *psbt.Packet) { p.UnsignedTx.Version = 1 },
		"version 3":                func(_ string, p *psbt.Packet) { p.UnsignedTx.Version = 3 },
		"version negative":         func(_ string, p *psbt.Packet) { p.UnsignedTx.Version = -2 },
		"lock time":                func(_ string, p *psbt.Packet) { p.UnsignedTx.LockTime = 800_000 },
	}
	signers := append(append([]*btcec.PrivateKey{w.staker}, w.fps...), w.cov...)
	outcomes := map[bool]int{}
	for kind, mk := range build {
		for name, mutate := range mutations {
			for rep := 0; rep < 3; rep++ {
				p := mk()
				mutate(kind, p)
				// Every key the leaf takes signs the (mutated) transaction;
				// keys without a slot are refused and skipped.
				for _, k := range signers {
					if err := signTapscript(p, 0, k); err != nil && !errors.Is(err, ErrNotSignable) {
						t.Fatalf("%s, %s: signing: %v", kind, name, err)
					}
				}
				built, engineErr := finalizeWithEngine(p)
				tx, err := Finalize(p)
				switch {
				case !built:
					if err == nil {
						t.Fatalf("%s, %s: Finalize succeeded where the witness cannot be built: %v", kind, name, engineErr)
					}
				case engineErr == nil && err != nil:
					t.Fatalf("%s, %s: Finalize refuses what btcd's engine accepts: %v", kind, name, err)
				case engineErr != nil && err == nil:
					t.Fatalf("%s, %s: Finalize returned %s, which btcd's engine refuses: %v", kind, name, tx.TxHash(), engineErr)
				case engineErr != nil && !errors.Is(err, ErrScriptValidation):
					t.Fatalf("%s, %s: %v, want ErrScriptValidation (the engine: %v)", kind, name, err, engineErr)
				}
				if built {
					outcomes[engineErr == nil]++
				}
			}
		}
	}
	if outcomes[true] == 0 || outcomes[false] == 0 {
		t.Fatalf("outcomes not mixed: %v", outcomes)
	}
}
