package psbt

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"slices"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/psbt/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/internal/policy"
	"github.com/btcstake/btcstake/params"
	"github.com/btcstake/btcstake/script"
)

// UTXO is a coin the staking transaction may spend.
type UTXO struct {
	OutPoint wire.OutPoint
	Value    int64
	PkScript []byte
	// PrevTx is the transaction that created the coin. Required for P2PKH
	// (BIP-174 non_witness_utxo); added to the PSBT for other kinds too
	// when given.
	PrevTx *wire.MsgTx
	// RedeemScript is the P2SH-P2WPKH redeem script (0014{hash160(pk)}),
	// when known; signers can derive it from their key otherwise.
	RedeemScript []byte
}

// StakingRequest is everything a staking transaction is built from.
type StakingRequest struct {
	Delegation
	Value          int64 // satoshis locked in the staking output
	UTXOs          []UTXO
	FeeRate        FeeRate
	ChangePkScript []byte
	// PhaseOne adds the phase-1 OP_RETURN (needs Params.Tag and exactly one
	// finality provider).
	PhaseOne bool
}

// inputSequence signals replaceability (BIP-125) so a stuck staking
// transaction can be fee-bumped.
const inputSequence = wire.MaxTxInSequenceNum - 2

// BuildStaking builds the staking transaction as a PSBT. It selects coins
// deterministically (largest value first, then by outpoint), charges exactly
// FeeRate for the signed transaction's virtual size, and adds change only
// when it is not dust (otherwise the remainder goes to the fee, which the
// description notes).
//
// It refuses (params.ErrInvalidStakingValue, params.ErrInvalidStakingTime, params.ErrDustOutput,
// script kinds) to build a staking output whose unbonding or slashing
// transactions could not be valid under the params.
func BuildStaking(req StakingRequest) (*Result, error) {
	d := &req.Delegation
	if err := d.validate(); err != nil {
		return nil, err
	}
	p := d.Params
	if req.Value < p.MinStakingValue() || req.Value > p.MaxStakingValue() {
		return nil, fmt.Errorf("%w: %d sat outside %d..%d", params.ErrInvalidStakingValue, req.Value, p.MinStakingValue(), p.MaxStakingValue())
	}
	if err := p.CheckSlashable(req.Value); err != nil {
		return nil, err
	}
	if err := checkFeeRate(req.FeeRate); err != nil {
		return nil, err
	}
	staking, err := d.StakingOutput()
	if err != nil {
		return nil, err
	}
	outs := []*wire.TxOut{staking.TxOut(req.Value)}
	roles := []OutputRole{RoleStaking}
	if req.PhaseOne {
		if len(p.Tag()) == 0 {
			return nil, fmt.Errorf("%w: phase-1 staking needs a tag in the params", params.ErrInvalidParams)
		}
		data, err := script.NewV0StakingData(p.Tag(), d.Staker, d.FinalityProviders, d.StakingTime)
		if err != nil {
			return nil, err
		}
		outs = append(outs, data.TxOut())
		roles = append(roles, RoleOpReturn)
	}
	if k := txscript.GetScriptClass(req.ChangePkScript); k == txscript.NonStandardTy || k == txscript.NullDataTy {
		return nil, fmt.Errorf("%w: change script %x is not a standard payment script", ErrInvalidOutput, req.ChangePkScript)
	}

	// Classify and order the coins.
	type coin struct {
		UTXO
		kind InputKind
	}
	coins := make([]coin, 0, len(req.UTXOs))
	seen := map[wire.OutPoint]bool{}
	for i, u := range req.UTXOs {
		if seen[u.OutPoint] {
			return nil, fmt.Errorf("%w: utxo %v given twice", ErrInvalidOutput, u.OutPoint)
		}
		seen[u.OutPoint] = true
		k, err := classify(u.PkScript)
		if err != nil {
			return nil, fmt.Errorf("utxo %d: %w", i, err)
		}
		if u.Value <= 0 || u.Value > params.MaxMoney {
			return nil, fmt.Errorf("%w: utxo %d has value %d sat, outside 1..%d", ErrInvalidOutput, i, u.Value, int64(params.MaxMoney))
		}
		if u.PrevTx != nil {
			if u.PrevTx.TxHash() != u.OutPoint.Hash || int(u.OutPoint.Index) >= len(u.PrevTx.TxOut) ||
				u.PrevTx.TxOut[u.OutPoint.Index].Value != u.Value ||
				!bytes.Equal(u.PrevTx.TxOut[u.OutPoint.Index].PkScript, u.PkScript) {
				return nil, fmt.Errorf("%w: utxo %d: previous transaction does not create %v with that value and script", ErrWrongInput, i, u.OutPoint)
			}
		} else if k == P2PKH {
			return nil, fmt.Errorf("%w: utxo %d is p2pkh, which needs its previous transaction", ErrMissingPrevTx, i)
		}
		coins = append(coins, coin{u, k})
	}
	slices.SortStableFunc(coins, func(a, b coin) int {
		if a.Value != b.Value {
			if a.Value > b.Value {
				return -1
			}
			return 1
		}
		if c := bytes.Compare(a.OutPoint.Hash[:], b.OutPoint.Hash[:]); c != 0 {
			return c
		}
		return int(a.OutPoint.Index) - int(b.OutPoint.Index)
	})

	// Select the fewest largest coins that pay value + fee.
	var w txWeight
	for _, o := range outs {
		w.addOutput(o.PkScript)
	}
	var total int64
	nonWitnessIns := 0
	var chosen []coin
	var fee, change int64
	var vs int64
	found := false
	for _, c := range coins {
		nw, wit := inputWeight(c.kind)
		w.addInput(nw, wit)
		if wit == 0 {
			nonWitnessIns++
		}
		total += c.Value
		chosen = append(chosen, c)
		noChange := vsize(w.total(nonWitnessIns))
		if total < req.Value+req.FeeRate.Fee(noChange) {
			continue
		}
		wc := w
		wc.addOutput(req.ChangePkScript)
		withChange := vsize(wc.total(nonWitnessIns))
		change = total - req.Value - req.FeeRate.Fee(withChange)
		if change > 0 && !policy.IsDust(change, req.ChangePkScript) {
			vs, fee = withChange, req.FeeRate.Fee(withChange)
		} else {
			change, vs, fee = 0, noChange, total-req.Value
		}
		found = true
		break
	}
	if !found {
		return nil, fmt.Errorf("%w: %d sat in %d utxos cannot pay %d sat plus fees", ErrInsufficientFunds, total, len(coins), req.Value)
	}
	if change > 0 {
		outs = append(outs, wire.NewTxOut(change, append([]byte(nil), req.ChangePkScript...)))
		roles = append(roles, RoleChange)
	}

	ins := make([]*wire.OutPoint, len(chosen))
	seqs := make([]uint32, len(chosen))
	for i := range chosen {
		op := chosen[i].OutPoint
		ins[i], seqs[i] = &op, inputSequence
	}
	pkt, err := psbt.New(ins, outs, 2, 0, seqs)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidPSBT, err)
	}
	for i, c := range chosen {
		pi := &pkt.Inputs[i]
		if c.kind != P2PKH {
			pi.WitnessUtxo = wire.NewTxOut(c.Value, append([]byte(nil), c.PkScript...))
		}
		if c.PrevTx != nil {
			pi.NonWitnessUtxo = c.PrevTx.Copy()
		}
		if c.kind == P2SHP2WPKH && c.RedeemScript != nil {
			pi.RedeemScript = append([]byte(nil), c.RedeemScript...)
		}
	}
	describeOutputFields(&pkt.Outputs[0], staking, d.StakerOrigin)

	desc := Description{
		Kind: TxStaking.String(), Txid: pkt.UnsignedTx.TxHash().String(), InputValue: total,
		OutputValue: total - fee, Fee: fee, VSize: vs, FeeRate: float64(fee) / float64(vs),
		Timelock: d.StakingTime, Sequence: inputSequence, Version: 2,
	}
	for i, o := range outs {
		desc.Outputs = append(desc.Outputs, OutputDesc{Index: i, Role: roles[i].String(), Value: o.Value, PkScript: hex.EncodeToString(o.PkScript)})
	}
	if change == 0 && fee > req.FeeRate.Fee(vs) {
		desc.Notes = append(desc.Notes, fmt.Sprintf("no change output: the %d sat left over would be dust, so it goes to the fee", fee-req.FeeRate.Fee(vs)))
	}
	desc.Notes = append(desc.Notes, fmt.Sprintf("fee assumes %d-byte ECDSA signatures (low-R) and %d-byte Schnorr signatures", ecdsaSigLen, schnorrSigLen))
	return &Result{Packet: pkt, Description: desc}, nil
}

// ValidateStakingTx checks a staking transaction as Babylon does
// (docs/spec.md §4.1): a sane transaction (at least one input and one
// output, values within 21M BTC, no outpoint spent twice, ...) of any
// version, with exactly one output paying the delegation's staking
// script, its value within the params and large enough to be unbonded and
// slashed without a dust or empty output. It returns the staking output's
// index.
//
// The version is not checked: Babylon does not (the version-2 rule of
// BIP-68 applies to a transaction that spends a relative time lock, which
// the staking tx does not). BuildStaking makes version 2.
func ValidateStakingTx(tx *wire.MsgTx, d Delegation) (uint32, error) {
	if err := d.validate(); err != nil {
		return 0, err
	}
	st, err := d.StakingOutput()
	if err != nil {
		return 0, err
	}
	if tx == nil {
		return 0, invalid(ErrTxOutputs, "no transaction")
	}
	if err := nilParts("staking tx", tx); err != nil {
		return 0, err
	}
	if err := checkSanity("staking tx", tx); err != nil {
		return 0, err
	}
	idx := -1
	for i, o := range tx.TxOut {
		if bytes.Equal(o.PkScript, st.PkScript) {
			if idx >= 0 {
				return 0, invalid(ErrTxOutputs, "outputs %d and %d both pay the staking script", idx, i)
			}
			idx = i
		}
	}
	if idx < 0 {
		return 0, invalid(ErrTxOutputs, "no output pays the staking script")
	}
	v := tx.TxOut[idx].Value
	p := d.Params
	if v < p.MinStakingValue() || v > p.MaxStakingValue() {
		return 0, fmt.Errorf("%w: %w: %d sat outside %d..%d", ErrInvalidTx, params.ErrInvalidStakingValue, v, p.MinStakingValue(), p.MaxStakingValue())
	}
	if err := p.CheckSlashable(v); err != nil {
		return 0, fmt.Errorf("%w: %w", ErrInvalidTx, err)
	}
	return uint32(idx), nil
}

// PhaseOneDelegation reads the delegation a phase-1 staking transaction
// describes, as a watcher that knows only the params and the transaction
// needs it:
//
//  1. p must be valid and carry a phase-1 tag (params.ErrInvalidParams).
//  2. tx must be a staking transaction under p's tag and covenant
//     committee (script.StakingTxParser): exactly one OP_RETURN with the
//     version-0 staking data and exactly one output paying the staking
//     script that data describes (script.ErrNotStakingTx,
//     script.ErrAmbiguousStakingTx).
//  3. The delegation is the data's staker, its one finality provider and
//     its staking time, under p.
//
// The staked value and the staking time are not checked against p here;
// ValidateStakingTx(tx, d) does that.
func PhaseOneDelegation(tx *wire.MsgTx, p *params.Params) (Delegation, error) {
	if !p.Valid() {
		return Delegation{}, fmt.Errorf("%w: no params, or params not made by params.New", params.ErrInvalidParams)
	}
	tag := p.Tag()
	if len(tag) == 0 {
		return Delegation{}, fmt.Errorf("%w: the params have no phase-1 tag", params.ErrInvalidParams)
	}
	parser, err := script.NewStakingTxParser(script.ParserConfig{Tag: tag, Covenant: p.CovenantKeys(), CovenantQuorum: p.CovenantQuorum()})
	if err != nil {
		return Delegation{}, fmt.Errorf("%w: %w", params.ErrInvalidParams, err)
	}
	parsed, err := parser.Parse(tx)
	if err != nil {
		return Delegation{}, err
	}
	staker, err := parsed.Data.Staker.PubKey()
	if err != nil {
		return Delegation{}, err
	}
	fp, err := parsed.Data.FinalityProvider.PubKey()
	if err != nil {
		return Delegation{}, err
	}
	return Delegation{Params: p, Staker: staker, FinalityProviders: []*btcec.PublicKey{fp},
		StakingTime: parsed.Data.StakingTime}, nil
}
