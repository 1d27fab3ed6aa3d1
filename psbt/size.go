package psbt

import (
	"fmt"
	"math"

	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

// p2trDummy stands for any P2TR output script (the staking outputs' kind)
// in dust checks.
var p2trDummy = append([]byte{0x51, 0x20}, make([]byte, 32)...)

// isDust applies btcd's relay policy (dustThreshold: P2TR below 330,
// P2WPKH below 294, P2PKH below 546). Null-data outputs are exempt, as in
// btcd's standardness check; any other unspendable output is dust.
func isDust(value int64, pkScript []byte) bool {
	if txscript.GetScriptClass(pkScript) == txscript.NullDataTy {
		return false
	}
	if txscript.IsUnspendable(pkScript) {
		return true
	}
	return value < dustThreshold(pkScript)
}

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

// txVSize is the virtual size of a complete (signed) transaction.
func txVSize(tx *wire.MsgTx) int64 {
	return vsize(int64(tx.SerializeSizeStripped()*3 + tx.SerializeSize()))
}
