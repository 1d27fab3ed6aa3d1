package psbt

import (
	"fmt"
	"math"

	"github.com/btcsuite/btcd/psbt/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/script"
)

// FeeRate is a fee rate in satoshis per 1000 virtual bytes (sat/kvB).
type FeeRate int64

// maxFeeRate bounds every fee rate (100000 sat/vB): far above any real
// rate, and low enough that a fee never overflows.
const maxFeeRate FeeRate = 100_000 * 1000

// checkFeeRate enforces the builders' range of fee rates, 1..100000 sat/vB.
func checkFeeRate(r FeeRate) error {
	if r < 1000 || r > maxFeeRate {
		return fmt.Errorf("%w: %v sat/vB is outside 1..100000 (the relay minimum is 1)", ErrInvalidFeeRate, r.SatPerVB())
	}
	return nil
}

// FeeRateFromSatPerVB converts a rate in sat/vB (fractions allowed).
func FeeRateFromSatPerVB(satPerVB float64) (FeeRate, error) {
	if math.IsNaN(satPerVB) || satPerVB < 1 || satPerVB > 100_000 {
		return 0, fmt.Errorf("%w: %v sat/vB (want 1..100000)", ErrInvalidFeeRate, satPerVB)
	}
	return FeeRate(math.Round(satPerVB * 1000)), nil
}

// SatPerVB is the rate in sat/vB.
func (r FeeRate) SatPerVB() float64 { return float64(r) / 1000 }

// Fee is the fee for vsize virtual bytes, rounded up.
func (r FeeRate) Fee(vsize int64) int64 { return (vsize*int64(r) + 999) / 1000 }

// InputKind is a spendable output type the staking builder can fund from.
type InputKind int

const (
	P2WPKH InputKind = iota + 1
	P2TRKeyPath
	P2PKH
	P2SHP2WPKH
)

func (k InputKind) String() string {
	return [...]string{"unknown", "p2wpkh", "p2tr", "p2pkh", "p2sh-p2wpkh"}[k]
}

// classify returns the input kind of a pkScript. A P2SH script is taken to
// be P2SH-P2WPKH (the only P2SH kind supported).
func classify(pkScript []byte) (InputKind, error) {
	switch txscript.GetScriptClass(pkScript) {
	case txscript.WitnessV0PubKeyHashTy:
		return P2WPKH, nil
	case txscript.WitnessV1TaprootTy:
		return P2TRKeyPath, nil
	case txscript.PubKeyHashTy:
		return P2PKH, nil
	case txscript.ScriptHashTy:
		return P2SHP2WPKH, nil
	}
	return 0, fmt.Errorf("%w: %x (supported: p2wpkh, p2tr key path, p2pkh, p2sh-p2wpkh)", ErrUnsupportedInput, pkScript)
}

// Signature sizes this package's signers produce: ECDSA signatures are
// ground to low R and low S with 32-byte r and s, so their DER encoding is
// always 70 bytes, 71 with the sighash byte (as Bitcoin Core's wallet does
// for R); Schnorr signatures with SIGHASH_DEFAULT are 64 bytes.
const (
	ecdsaSigLen   = 71
	schnorrSigLen = 64
)

// inputWeight returns the weight units of a signed input of kind k: the
// non-witness part times 4 plus the witness (with its item count). A
// non-witness input in a segwit transaction still carries a 1-byte empty
// witness, accounted for by the caller (hasWitness).
func inputWeight(k InputKind) (nonWitness, witness int64) {
	const outpointSeq = 36 + 4
	switch k {
	case P2WPKH:
		return 4 * (outpointSeq + 1), 1 + 1 + ecdsaSigLen + 1 + 33
	case P2TRKeyPath:
		return 4 * (outpointSeq + 1), 1 + 1 + schnorrSigLen
	case P2PKH:
		scriptSig := int64(1 + ecdsaSigLen + 1 + 33)
		return 4 * (outpointSeq + 1 + scriptSig), 0
	case P2SHP2WPKH:
		scriptSig := int64(1 + 22)
		return 4 * (outpointSeq + 1 + scriptSig), 1 + 1 + ecdsaSigLen + 1 + 33
	}
	return 0, 0
}

// txWeight computes the weight of a transaction with the given signed
// inputs (non-witness and witness weights) and outputs.
type txWeight struct {
	nonWitness int64 // already multiplied by 4
	witness    int64
	nIn, nOut  int
	anyWitness bool
}

func (w *txWeight) addInput(nonWitness, witness int64) {
	w.nonWitness += nonWitness
	w.witness += witness
	w.nIn++
	if witness > 0 {
		w.anyWitness = true
	}
}

func (w *txWeight) addOutput(pkScript []byte) {
	w.nonWitness += 4 * int64(8+wire.VarIntSerializeSize(uint64(len(pkScript)))+len(pkScript))
	w.nOut++
}

// total returns the weight: version, locktime and counts, the segwit
// marker and flag, and one empty-witness byte per non-witness input.
func (w *txWeight) total(nonWitnessInputs int) int64 {
	t := w.nonWitness + w.witness
	t += 4 * int64(4+4+wire.VarIntSerializeSize(uint64(w.nIn))+wire.VarIntSerializeSize(uint64(w.nOut)))
	if w.anyWitness {
		t += 2 + int64(nonWitnessInputs)
	}
	return t
}

// vsize is ceil(weight / 4).
func vsize(weight int64) int64 { return (weight + 3) / 4 }

// VSize is the virtual size of a transaction as it is (BIP-141:
// ceil((3 * stripped size + total size) / 4)).
func VSize(tx *wire.MsgTx) int64 {
	return vsize(txWeightOf(tx))
}

// leafWitnessWeight is the witness size of the signed spend of a staking
// leaf of the given kind, as Finalize assembles it: every signature slot
// of the leaf (64-byte signatures for the staker, exactly quorum covenant
// members and one finality provider; empty items for the other slots),
// the script and the control block, each with its length, after the item
// count.
func leafWitnessWeight(kind script.PathKind, nCov, quorum, nFP, scriptLen, cbLen int) int64 {
	items, sigs := 1, 1
	switch kind {
	case script.UnbondingPath:
		items += nCov
		sigs += quorum
	case script.SlashingPath:
		items += nCov + nFP
		sigs += quorum + 1
	}
	return int64(wire.VarIntSerializeSize(uint64(items+2))) +
		int64(sigs)*(1+schnorrSigLen) + int64(items-sigs) +
		int64(wire.VarIntSerializeSize(uint64(scriptLen))+scriptLen) +
		int64(wire.VarIntSerializeSize(uint64(cbLen))+cbLen)
}

// spentOutput is the output input i of p spends, as the packet records it:
// from non_witness_utxo when that is the spent transaction (its txid
// proves the value; a witness_utxo may misstate a legacy input's value),
// else from witness_utxo; nil when neither tells. p must have passed
// checkPacket.
func spentOutput(p *psbt.Packet, i int) *wire.TxOut {
	pi := &p.Inputs[i]
	op := p.UnsignedTx.TxIn[i].PreviousOutPoint
	if pi.NonWitnessUtxo != nil && int(op.Index) < len(pi.NonWitnessUtxo.TxOut) && pi.NonWitnessUtxo.TxHash() == op.Hash {
		return pi.NonWitnessUtxo.TxOut[op.Index]
	}
	return pi.WitnessUtxo
}

// Fee is the fee of p's transaction: the values its inputs spend (from
// non_witness_utxo when it is the spent transaction, else witness_utxo)
// less its outputs. It fails with ErrUnknownSpentOutput when an input's
// value is not recorded.
func Fee(p *psbt.Packet) (int64, error) {
	in, err := inputValue(p)
	if err != nil {
		return 0, err
	}
	var out int64
	for _, o := range p.UnsignedTx.TxOut {
		out += o.Value
	}
	return in - out, nil
}

// inputValue sums the values p's inputs spend.
func inputValue(p *psbt.Packet) (int64, error) {
	if err := checkPacket(p); err != nil {
		return 0, err
	}
	var in int64
	for i := range p.UnsignedTx.TxIn {
		o := spentOutput(p, i)
		if o == nil {
			return 0, fmt.Errorf("%w: input %d has neither witness_utxo nor non_witness_utxo", ErrUnknownSpentOutput, i)
		}
		in += o.Value
	}
	return in, nil
}

// EstimateVSize is the virtual size p's transaction will have once every
// input is signed and finalised, the size fee rates are charged on:
//
//   - a finalised input counts as it is;
//   - an input spending a staking leaf (one leaf script in the PSBT) counts
//     with the witness Finalize assembles: 64-byte signatures from the
//     staker, exactly quorum covenant members and, on a slashing leaf, one
//     finality provider, and an empty item for every other slot;
//   - a funding coin counts with this package's signatures: 71-byte ECDSA
//     (P2WPKH, P2SH-P2WPKH, P2PKH; ground to low R) and a 64-byte Schnorr
//     key-path signature (P2TR).
//
// So it is exact for every transaction this package builds and signs. It
// fails with ErrUnsupportedInput for an input of another kind (or a leaf
// script this package does not know) and ErrUnknownSpentOutput when a
// funding coin's spent output is not recorded.
func EstimateVSize(p *psbt.Packet) (int64, error) {
	if err := checkPacket(p); err != nil {
		return 0, err
	}
	var w txWeight
	nonWitnessIns := 0
	const outpointSeq = 36 + 4
	for i := range p.UnsignedTx.TxIn {
		pi := &p.Inputs[i]
		var nw, wit int64
		switch {
		case pi.FinalScriptWitness != nil || pi.FinalScriptSig != nil:
			nw = 4 * int64(outpointSeq+wire.VarIntSerializeSize(uint64(len(pi.FinalScriptSig)))+len(pi.FinalScriptSig))
			if len(pi.FinalScriptWitness) > 1 || len(pi.FinalScriptWitness) == 1 && pi.FinalScriptWitness[0] != 0 {
				wit = int64(len(pi.FinalScriptWitness))
			}
		case len(pi.TaprootLeafScript) == 1:
			ls := pi.TaprootLeafScript[0]
			leaf, err := script.ParseLeafScript(ls.Script)
			if err != nil {
				return 0, fmt.Errorf("%w: input %d: %v", ErrUnsupportedInput, i, err)
			}
			nw = 4 * (outpointSeq + 1)
			wit = leafWitnessWeight(leaf.Kind, len(leaf.Covenant), int(leaf.Quorum), len(leaf.FinalityProviders),
				len(ls.Script), len(ls.ControlBlock))
		default:
			out := spentOutput(p, i)
			if out == nil {
				return 0, fmt.Errorf("%w: input %d has neither witness_utxo nor non_witness_utxo", ErrUnknownSpentOutput, i)
			}
			k, err := classify(out.PkScript)
			if err != nil {
				return 0, fmt.Errorf("input %d: %w", i, err)
			}
			nw, wit = inputWeight(k)
		}
		w.addInput(nw, wit)
		if wit == 0 {
			nonWitnessIns++
		}
	}
	for _, o := range p.UnsignedTx.TxOut {
		w.addOutput(o.PkScript)
	}
	return vsize(w.total(nonWitnessIns)), nil
}
