package psbt

import (
	"bytes"
	"encoding/hex"
	"fmt"

	"github.com/btcsuite/btcd/psbt/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/script"
)

// What the unbonding, slashing and withdraw builders share: the spent
// output, the witness weight of a path, one-input spends.

// Funding names the output a transaction spends: a transaction and the
// index of the output.
type Funding struct {
	Tx    *wire.MsgTx
	Index uint32
}

// check returns the funding output, verifying it pays o and that the
// funding transaction could exist: it passes Bitcoin's context-free rules
// (checkSanity), as the validators of the transactions spending it require.
func (f Funding) check(o *script.Output) (*wire.TxOut, wire.OutPoint, error) {
	if f.Tx == nil || int(f.Index) >= len(f.Tx.TxOut) {
		return nil, wire.OutPoint{}, fmt.Errorf("%w: funding transaction has no output %d", ErrWrongInput, f.Index)
	}
	if err := nilParts("funding tx", f.Tx); err != nil {
		return nil, wire.OutPoint{}, fmt.Errorf("%w: %v", ErrWrongInput, err)
	}
	if err := checkSanity("funding tx", f.Tx); err != nil {
		return nil, wire.OutPoint{}, fmt.Errorf("%w: %v", ErrWrongInput, err)
	}
	out := f.Tx.TxOut[f.Index]
	if !bytes.Equal(out.PkScript, o.PkScript) {
		return nil, wire.OutPoint{}, fmt.Errorf("%w: output %d of %s does not pay the %s output of this delegation",
			ErrWrongInput, f.Index, f.Tx.TxHash(), o.Kind)
	}
	return out, wire.OutPoint{Hash: f.Tx.TxHash(), Index: f.Index}, nil
}

// witnessWeight is the witness size of the signed script-path spend of
// path on o (see leafWitnessWeight).
func witnessWeight(o *script.Output, path *script.SpendPath) int64 {
	return leafWitnessWeight(path.Kind, len(o.CovenantKeys()), int(o.CovenantQuorum()), len(o.FinalityProviderKeys()),
		len(path.Script), len(path.ControlBlock))
}

// spendVSize is the signed virtual size of a one-input spend of path.
func spendVSize(o *script.Output, path *script.SpendPath, outs []*wire.TxOut) int64 {
	var w txWeight
	w.addInput(4*(36+4+1), witnessWeight(o, path))
	for _, out := range outs {
		w.addOutput(out.PkScript)
	}
	return vsize(w.total(0))
}

type spendSpec struct {
	kind     TxKind
	path     *script.SpendPath
	from     *script.Output
	value    int64
	op       wire.OutPoint
	version  int32
	sequence uint32
	outs     []*wire.TxOut
	roles    []OutputRole
	origin   *KeyOrigin
}

// spendOne builds a one-input PSBT spending spec.from through spec.path.
func spendOne(s spendSpec) (*Result, error) {
	op := s.op
	pkt, err := psbt.New([]*wire.OutPoint{&op}, s.outs, s.version, 0, []uint32{s.sequence})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidPSBT, err)
	}
	tapInput(&pkt.Inputs[0], s.from, s.path, s.value, s.origin)
	var outSum int64
	for _, o := range s.outs {
		outSum += o.Value
	}
	vs := spendVSize(s.from, s.path, s.outs)
	desc := Description{
		Kind: s.kind.String(), Path: s.from.Kind.String() + " output, " + s.path.Kind.String() + " path",
		Txid: pkt.UnsignedTx.TxHash().String(), InputValue: s.value, OutputValue: outSum, Fee: s.value - outSum,
		VSize: vs, FeeRate: float64(s.value-outSum) / float64(vs),
		Timelock: s.path.Timelock, Sequence: s.sequence, Version: s.version,
	}
	for i, o := range s.outs {
		desc.Outputs = append(desc.Outputs, OutputDesc{Index: i, Role: s.roles[i].String(), Value: o.Value, PkScript: hex.EncodeToString(o.PkScript)})
	}
	if s.path.Timelock > 0 {
		desc.Notes = append(desc.Notes, fmt.Sprintf("valid once the spent output is %d blocks deep", s.path.Timelock))
	}
	return &Result{Packet: pkt, Description: desc}, nil
}
