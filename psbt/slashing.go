package psbt

import (
	"bytes"
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/btcsuite/btcd/psbt/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/adaptor"
	"github.com/btcstake/btcstake/internal/policy"
	"github.com/btcstake/btcstake/params"
	"github.com/btcstake/btcstake/script"
)

// The slashing transaction: pre-signed by the staker, adaptor-signed by the
// covenant, completed from a finality provider's extracted key.

// BuildSlashing builds the slashing transaction spending the staking output
// (from = script.StakingOutputKind) or the unbonding output (from =
// script.UnbondingOutputKind) through its slashing path: version 1 as in
// Babylon's Go reference, nSequence ffffffff, locktime 0, outputs
//
//  1. Params.SlashingPkScript with round(value * SlashingRate)
//  2. the slashing change output with value - slashed - MinSlashingFee.
//
// It spends the slashing path, whose leaf and witness are
//
//	<StakerPk> OP_CHECKSIGVERIFY
//	<FpPk1> OP_CHECKSIG ... <FpPkK> OP_CHECKSIGADD 1 OP_NUMEQUALVERIFY
//	<CovPk1> OP_CHECKSIG <CovPk2> OP_CHECKSIGADD ... <CovPkN> OP_CHECKSIGADD <quorum> OP_NUMEQUAL
//
//	witness: <CovSig_N or empty> ... <CovSig_1 or empty> <FpSig_K or empty> ... <FpSig_1 or empty>
//	         <StakerSig> <leaf> <control block (65 bytes, from either output)>
//
// with each key list ascending (one FP: "<FpPk> OP_CHECKSIGVERIFY"; one
// covenant key: "<CovPk> OP_CHECKSIG"), exactly quorum covenant items and
// one FP item non-empty. The staker pre-signs, covenant members add
// adaptor signatures (AdaptorSignSlashing), and CompleteSlashing fills the
// rest from a finality provider's leaked key.
//
// It refuses (params.ErrDustOutput) a value whose slashing amount is 0,
// even to a null-data slashing script, and outputs that would be dust.
func BuildSlashing(d Delegation, from script.OutputKind, funding Funding) (*Result, error) {
	if err := d.validate(); err != nil {
		return nil, err
	}
	if from != script.StakingOutputKind && from != script.UnbondingOutputKind {
		return nil, fmt.Errorf("%w: slashing spends the staking or the unbonding output, not %v", ErrInvalidOutput, from)
	}
	src, err := d.Output(from)
	if err != nil {
		return nil, err
	}
	change, err := d.SlashingChangeOutput()
	if err != nil {
		return nil, err
	}
	in, op, err := funding.check(src)
	if err != nil {
		return nil, err
	}
	p := d.Params
	// Babylon's builder refuses a slashing amount of 0 (its validator, a
	// slashing output of no value), also to a null-data script, which is
	// otherwise exempt from the dust rule.
	slashed := p.SlashingAmount(in.Value)
	rest := in.Value - slashed - p.MinSlashingFee()
	if slashed <= 0 {
		return nil, fmt.Errorf("%w: slashing %s of %d sat is %d sat, and a slashing output must carry a positive value",
			params.ErrDustOutput, p.SlashingRate(), in.Value, slashed)
	}
	if policy.IsDust(slashed, p.SlashingPkScript()) || rest <= 0 || policy.IsDust(rest, change.PkScript) {
		return nil, fmt.Errorf("%w: slashing %d sat leaves outputs of %d and %d sat", params.ErrDustOutput, in.Value, slashed, rest)
	}
	outs := []*wire.TxOut{
		wire.NewTxOut(slashed, append([]byte(nil), p.SlashingPkScript()...)),
		change.TxOut(rest),
	}
	path, _ := src.Path(script.SlashingPath)
	r, err := spendOne(spendSpec{
		kind: TxSlashing, path: path, from: src, value: in.Value, op: op, version: 1,
		sequence: wire.MaxTxInSequenceNum, outs: outs, roles: []OutputRole{RoleSlashing, RoleSlashingChange}, origin: d.StakerOrigin,
	})
	if err != nil {
		return nil, err
	}
	describeOutputFields(&r.Packet.Outputs[1], change, d.StakerOrigin)
	r.Description.Notes = append(r.Description.Notes, fmt.Sprintf(
		"slashes %s of %d sat = %d sat (rounded as Babylon does); fee is the minimum slashing fee %d sat", p.SlashingRate(), in.Value, slashed, p.MinSlashingFee()))
	return r, nil
}

// ValidateSlashingTx checks a slashing transaction against the output it
// spends (the staking output, or the unbonding output of an unbonding
// transaction; from says which) as Babylon does (docs/spec.md §4.4): both
// transactions are sane (no empty input or output list, values within 21M
// BTC, ...); the slashing tx has version 1 or 2, exactly one input spending
// that output with nSequence ffffffff and an empty scriptSig, locktime 0,
// weight at most 400,000, and exactly two outputs: the slashing script
// with at least round(value * rate), which must be positive, and the
// slashing change output, neither dust (a null-data slashing script is
// exempt from the dust rule, not from the positive value); a fee of at
// least the minimum slashing fee.
func ValidateSlashingTx(slashing, funding *wire.MsgTx, fundingIdx uint32, from script.OutputKind, d Delegation) error {
	if err := d.validate(); err != nil {
		return err
	}
	src, err := d.Output(from)
	if err != nil {
		return err
	}
	if from == script.SlashingChangeOutputKind {
		return fmt.Errorf("%w: a slashing change output cannot be slashed", ErrInvalidOutput)
	}
	in, op, err := Funding{Tx: funding, Index: fundingIdx}.check(src)
	if err != nil {
		return err
	}
	// Babylon's CheckSlashingTxMatchFundingTx checks the funding tx's
	// sanity too.
	if err := checkSanity("funding tx", funding); err != nil {
		return err
	}
	return checkSlashing(slashing, in, op, d)
}

// checkSlashing applies the slashing-tx rules given the spent output and
// its outpoint: Babylon's pre-signed rules (validate.go), then its
// validateSlashingTx.
func checkSlashing(tx *wire.MsgTx, in *wire.TxOut, op wire.OutPoint, d Delegation) error {
	change, err := d.SlashingChangeOutput()
	if err != nil {
		return err
	}
	p := d.Params
	if err := slashingShape.check(tx); err != nil {
		return err
	}
	if tx.TxIn[0].PreviousOutPoint != op {
		return invalid(ErrTxInputs, "slashing tx spends %v, not %v", tx.TxIn[0].PreviousOutPoint, op)
	}
	if !bytes.Equal(tx.TxOut[0].PkScript, p.SlashingPkScript()) {
		return invalid(ErrTxOutputs, "output 0 does not pay the slashing script")
	}
	if !bytes.Equal(tx.TxOut[1].PkScript, change.PkScript) {
		return invalid(ErrTxOutputs, "output 1 does not pay the slashing change script")
	}
	if min := p.SlashingAmount(in.Value); tx.TxOut[0].Value < min {
		return invalid(ErrTxValue, "slashing output %d sat, at least %d required", tx.TxOut[0].Value, min)
	}
	for i, o := range tx.TxOut {
		if o.Value <= 0 || policy.IsDust(o.Value, o.PkScript) {
			return fmt.Errorf("%w: %w: output %d of %d sat", ErrInvalidTx, params.ErrDustOutput, i, o.Value)
		}
	}
	fee := in.Value - tx.TxOut[0].Value - tx.TxOut[1].Value
	if fee < p.MinSlashingFee() {
		return invalid(ErrTxFee, "fee %d sat is below the minimum slashing fee %d", fee, p.MinSlashingFee())
	}
	return nil
}

// CompleteSlashing turns a slashing PSBT that carries the staker's signature
// and the covenant's adaptor signatures into a broadcastable transaction,
// given a finality provider's secret key (for instance one extracted from an
// EOTS double-sign): it decrypts the adaptor signatures encrypted to that
// provider (skipping any that do not yield a valid signature), signs the
// provider's slot, finalises and verifies every input.
// The packet p is not modified.
func CompleteSlashing(p *psbt.Packet, fpKey *btcec.PrivateKey) (*wire.MsgTx, error) {
	cp, err := clonePacket(p)
	if err != nil {
		return nil, err
	}
	if fpKey == nil {
		return nil, fmt.Errorf("%w: no finality provider key", ErrNotSignable)
	}
	fp := script.XOnly(fpKey.PubKey())
	dk, err := adaptor.NewDecryptionKey(fpKey)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotSignable, err)
	}
	done := 0
	for idx := range cp.Inputs {
		ls, leaf, lh, err := slashingLeaf(cp, idx)
		if err != nil {
			continue
		}
		if !contains(leaf.FinalityProviders, fp) {
			return nil, fmt.Errorf("%w: %s is not a finality provider of input %d", ErrNotSignable, fp, idx)
		}
		h, err := TapscriptSigHash(cp, idx)
		if err != nil {
			return nil, err
		}
		var checks []sigCheck
		for _, u := range cp.Inputs[idx].Unknowns {
			// A malformed field (it came unchecked from some PSBT) is
			// skipped like an invalid signature.
			a, ok, err := parseAdaptorUnknown(u)
			if !ok || err != nil {
				continue
			}
			if a.FinalityProvider != fp || a.LeafHash != lh || !contains(leaf.Covenant, a.Covenant) {
				continue
			}
			s, err := adaptor.Decrypt(a.Sig, dk)
			if err != nil {
				continue
			}
			checks = append(checks, sigCheck{a.Covenant, h, s.Serialize()})
		}
		// An adaptor signature that does not decrypt to a valid signature
		// (it came unchecked from some PSBT) is skipped: it must not block
		// slashing when a quorum of others is valid. Finalize reports a
		// shortfall. The decrypted signatures are verified in one batch.
		for i, err := range verifySchnorrBatch(checks) {
			if err == nil {
				recordTapscriptSig(cp, idx, ls, checks[i].key, checks[i].sig)
			}
		}
		if err := signTapscript(cp, idx, fpKey); err != nil {
			return nil, err
		}
		done++
	}
	if done == 0 {
		return nil, fmt.Errorf("%w: no slashing input", ErrNotSignable)
	}
	return Finalize(cp)
}

// RecoverFinalityProviderKey recovers a finality provider's secret key from
// a slashing transaction seen on chain and a covenant adaptor signature that
// was encrypted to that provider: the covenant member's completed signature
// sits in the witness, and adaptor.RecoverSecretKey extracts the key. The
// key returned is the BIP-340-normalised one for the x-only key in the
// script.
func RecoverFinalityProviderKey(tx *wire.MsgTx, inputIdx int, a AdaptorSig) (*btcec.PrivateKey, error) {
	if tx == nil || inputIdx < 0 || inputIdx >= len(tx.TxIn) {
		return nil, fmt.Errorf("%w: no input %d", ErrWrongInput, inputIdx)
	}
	spend, err := script.ParseWitness(tx.TxIn[inputIdx].Witness)
	if err != nil {
		return nil, fmt.Errorf("%w: input %d: %v", ErrWrongInput, inputIdx, err)
	}
	if spend.Leaf.Kind != script.SlashingPath {
		return nil, fmt.Errorf("%w: input %d spends a %s leaf, not a slashing leaf", ErrWrongInput, inputIdx, spend.Leaf.Kind)
	}
	if leafHash(spend.Script) != a.LeafHash {
		return nil, fmt.Errorf("%w: the adaptor signature is for another leaf", ErrWrongInput)
	}
	var completed []byte
	found := false
	for _, sl := range spend.Covenant {
		if sl.Key == a.Covenant {
			completed, found = sl.Sig, true
		}
	}
	if !found {
		return nil, fmt.Errorf("%w: %s is not a covenant key of the leaf", ErrWrongInput, a.Covenant)
	}
	if len(completed) != 64 {
		return nil, fmt.Errorf("%w: covenant member %s did not sign this slashing tx", ErrWrongInput, a.Covenant)
	}
	sig, err := schnorr.ParseSignature(completed)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	fpPK, err := a.FinalityProvider.PubKey()
	if err != nil {
		return nil, err
	}
	k, err := adaptor.RecoverSecretKey(a.Sig, sig, fpPK)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadSignature, err)
	}
	return k, nil
}
