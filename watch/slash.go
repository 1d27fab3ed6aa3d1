package watch

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	btcpsbt "github.com/btcsuite/btcd/psbt/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/adaptor"
	"github.com/btcstake/btcstake/internal/secp"
	"github.com/btcstake/btcstake/psbt"
	"github.com/btcstake/btcstake/script"
)

// Error kinds of slashing (errors.Is).
var (
	// ErrMissingAdaptorSigs: the entry's slashing PSBT lacks a quorum of
	// valid covenant adaptor signatures encrypted to the finality
	// provider (CompleteSlashing), or lacks the adaptor signature of every
	// covenant member who signed a slashing transaction seen on chain
	// (RecoverKey). The error is a *MissingAdaptorSigsError, which names
	// the members.
	ErrMissingAdaptorSigs = errors.New("missing covenant adaptor signatures")
	// ErrMissingStakerSig: the entry's slashing PSBT does not carry the
	// staker's signature of the slashing leaf.
	ErrMissingStakerSig = errors.New("missing the staker's slashing signature")
	// ErrNoSlashingTx: the entry has no slashing PSBT of that output (or,
	// for the unbonding output, no unbonding transaction).
	ErrNoSlashingTx = errors.New("no pre-signed slashing transaction")
	// ErrNotFinalityProvider: the key is not one of the delegation's
	// finality providers.
	ErrNotFinalityProvider = errors.New("not a finality provider of the delegation")
	// ErrNotSlashing: the transaction input is not a spend of the entry's
	// staking or unbonding output through its slashing leaf, with one
	// finality provider's slot signed.
	ErrNotSlashing = errors.New("not a slashing of the delegation")
	// ErrKeyRecovery: the adaptor signatures the entry holds do not yield
	// the finality provider's key from the slashing transaction (the
	// transaction on chain is not the one the covenant adaptor-signed).
	ErrKeyRecovery = errors.New("finality provider key not recoverable")
	// ErrSlashingInvalid: the completed slashing transaction did not verify
	// (a bug or a corrupt PSBT; never broadcast it).
	ErrSlashingInvalid = errors.New("completed slashing transaction does not verify")
)

// MissingAdaptorSigsError says which covenant members' adaptor signatures
// a slashing needs and the entry lacks. It unwraps to
// ErrMissingAdaptorSigs.
type MissingAdaptorSigsError struct {
	// Delegation is the entry's ID, Output the output slashed.
	Delegation string
	Output     script.OutputKind
	// FinalityProvider is the provider (x-only hex) the signatures must
	// be encrypted to.
	FinalityProvider string
	// Missing lists the covenant members (x-only hex, in the leaf's
	// ascending order) whose adaptor signature is absent or does not
	// verify.
	Missing []string
	// Valid is how many valid ones the entry has; Needed how many it
	// needs (the covenant quorum for CompleteSlashing, 1 for RecoverKey).
	Valid, Needed int
}

func (e *MissingAdaptorSigsError) Error() string {
	return fmt.Sprintf("%v: delegation %s, slashing of the %s output to finality provider %s: %d valid, %d needed; missing or invalid: %s",
		ErrMissingAdaptorSigs, e.Delegation, psbt.OutputWords(e.Output), e.FinalityProvider, e.Valid, e.Needed, strings.Join(e.Missing, ", "))
}

// Unwrap makes errors.Is(err, ErrMissingAdaptorSigs) hold.
func (e *MissingAdaptorSigsError) Unwrap() error { return ErrMissingAdaptorSigs }

// slashingInput is what both slashing operations need about one of the
// entry's slashable outputs.
type slashingInput struct {
	from   script.OutputKind
	pkt    *btcpsbt.Packet // the entry's own packet: read, never written
	out    *script.Output
	path   *script.SpendPath
	op     wire.OutPoint
	prevTx *wire.MsgTx
	index  uint32
}

func (e *Entry) slashingInput(from script.OutputKind) (*slashingInput, error) {
	if from != script.StakingOutputKind && from != script.UnbondingOutputKind {
		return nil, fmt.Errorf("%w: a slashing spends the staking or the unbonding output, not %v", ErrNoSlashingTx, from)
	}
	s := &slashingInput{from: from, pkt: e.slashing}
	if from == script.UnbondingOutputKind {
		s.pkt = e.unbondingSlashing
	}
	f := e.funding(from)
	if s.pkt == nil || f.Tx == nil {
		return nil, fmt.Errorf("%w: delegation %s has no slashing PSBT of the %s output", ErrNoSlashingTx, e.ID(), psbt.OutputWords(from))
	}
	var err error
	if s.out, err = e.d.Output(from); err != nil {
		return nil, err
	}
	if s.path, err = s.out.Path(script.SlashingPath); err != nil {
		return nil, err
	}
	s.prevTx, s.index = f.Tx, f.Index
	s.op = wire.OutPoint{Hash: f.Tx.TxHash(), Index: f.Index}
	return s, nil
}

// fpKey returns the delegation's finality provider whose x-only key is x.
func (e *Entry) fpKey(x script.XOnlyKey) (*btcec.PublicKey, bool) {
	for _, k := range e.d.FinalityProviders {
		if script.XOnly(k) == x {
			return k, true
		}
	}
	return nil, false
}

// CompleteSlashing completes the entry's pre-signed slashing transaction of
// the output from (script.StakingOutputKind or UnbondingOutputKind) with
// the finality provider's secret key fpKey, as a watcher does once that
// key leaked (an EOTS double-sign, or a slashing seen on chain:
// RecoverKey). The result is ready to broadcast; the entry is not changed.
//
//  1. fpKey must be one of the delegation's finality providers
//     (ErrNotFinalityProvider), and the entry must hold the slashing PSBT
//     of that output (ErrNoSlashingTx).
//  2. The PSBT must carry the staker's BIP-340 signature of the slashing
//     leaf, valid for the transaction's sighash (ErrMissingStakerSig).
//  3. It must carry, for at least quorum covenant members, an adaptor
//     signature encrypted to this provider's key that verifies
//     (adaptor.EncVerify against the member's key, the provider's key and
//     the sighash); otherwise a *MissingAdaptorSigsError
//     (ErrMissingAdaptorSigs) lists every member whose signature is absent
//     or invalid.
//  4. psbt.CompleteSlashing decrypts the adaptor signatures with fpKey,
//     signs the provider's slot and finalises.
//  5. The completed transaction is checked before it is returned
//     (ErrSlashingInvalid otherwise): it is the PSBT's transaction (same
//     txid), a valid slashing transaction of the output
//     (psbt.ValidateSlashingTx), its witness spends the output's slashing
//     leaf with exactly quorum covenant signatures, each a valid BIP-340
//     signature by that member (verified in one batch), and btcd's script
//     engine accepts it.
func (e *Entry) CompleteSlashing(from script.OutputKind, fpKey *btcec.PrivateKey) (*wire.MsgTx, error) {
	// Step 1.
	if fpKey == nil {
		return nil, fmt.Errorf("%w: no key", ErrNotFinalityProvider)
	}
	fp := script.XOnly(fpKey.PubKey())
	if _, ok := e.fpKey(fp); !ok {
		return nil, fmt.Errorf("%w: %s is not a finality provider of delegation %s", ErrNotFinalityProvider, fp, e.ID())
	}
	s, err := e.slashingInput(from)
	if err != nil {
		return nil, err
	}
	pkt, err := copyPacket(s.pkt)
	if err != nil {
		return nil, err
	}
	h, err := psbt.TapscriptSigHash(pkt, 0)
	if err != nil {
		return nil, err
	}
	// Step 2.
	if err := e.checkStakerSig(pkt, s, h); err != nil {
		return nil, err
	}
	// Step 3.
	valid, missing, err := e.validAdaptorSigs(pkt, s, fp, h)
	if err != nil {
		return nil, err
	}
	quorum := int(e.p.CovenantQuorum())
	if valid < quorum {
		return nil, &MissingAdaptorSigsError{Delegation: e.ID(), Output: from, FinalityProvider: fp.String(),
			Missing: missing, Valid: valid, Needed: quorum}
	}
	// Step 4.
	tx, err := psbt.CompleteSlashing(pkt, fpKey)
	if err != nil {
		return nil, fmt.Errorf("completing the slashing of delegation %s's %s output: %w", e.ID(), psbt.OutputWords(from), err)
	}
	// Step 5.
	if err := e.verifyCompleted(tx, pkt, s, h); err != nil {
		return nil, err
	}
	return tx, nil
}

// checkStakerSig finds the staker's signature of the slashing leaf in p
// and verifies it against the sighash h.
func (e *Entry) checkStakerSig(p *btcpsbt.Packet, s *slashingInput, h []byte) error {
	staker := script.XOnly(e.d.Staker)
	for _, sig := range p.Inputs[0].TaprootScriptSpendSig {
		if sig == nil || !bytes.Equal(sig.XOnlyPubKey, staker[:]) || !bytes.Equal(sig.LeafHash, s.path.LeafHash[:]) {
			continue
		}
		if sig.SigHash != txscript.SigHashDefault {
			continue
		}
		if verifySchnorr(staker, h, sig.Signature) {
			return nil
		}
	}
	return fmt.Errorf("%w: delegation %s, slashing of the %s output: no valid signature by the staker %s", ErrMissingStakerSig,
		e.ID(), psbt.OutputWords(s.from), staker)
}

// validAdaptorSigs counts the covenant members of the slashing leaf with a
// valid adaptor signature encrypted to fp in p, and lists the others in
// the leaf's order.
func (e *Entry) validAdaptorSigs(p *btcpsbt.Packet, s *slashingInput, fp script.XOnlyKey, h []byte) (int, []string, error) {
	sigs, err := psbt.AdaptorSigs(p, 0)
	if err != nil {
		return 0, nil, err
	}
	fpPK, err := fp.PubKey()
	if err != nil {
		return 0, nil, err
	}
	ek, err := adaptor.NewEncryptionKey(fpPK)
	if err != nil {
		return 0, nil, err
	}
	valid := 0
	var missing []string
	for _, cov := range s.out.CovenantKeys() {
		covPK, err := cov.PubKey()
		if err != nil {
			return 0, nil, err
		}
		ok := false
		for _, a := range sigs {
			if a.Covenant == cov && a.FinalityProvider == fp && a.LeafHash == s.path.LeafHash &&
				adaptor.EncVerify(covPK, ek, h, a.Sig) == nil {
				ok = true
				break
			}
		}
		if ok {
			valid++
		} else {
			missing = append(missing, cov.String())
		}
	}
	return valid, missing, nil
}

// verifyCompleted is CompleteSlashing's step 5.
func (e *Entry) verifyCompleted(tx *wire.MsgTx, p *btcpsbt.Packet, s *slashingInput, h []byte) error {
	fail := func(format string, a ...any) error {
		return fmt.Errorf("%w: delegation %s, slashing of the %s output: %s", ErrSlashingInvalid, e.ID(), psbt.OutputWords(s.from), fmt.Sprintf(format, a...))
	}
	if tx.TxHash() != p.UnsignedTx.TxHash() {
		return fail("its txid %s is not the pre-signed transaction's %s", tx.TxHash(), p.UnsignedTx.TxHash())
	}
	if err := psbt.ValidateSlashingTx(tx, s.prevTx, s.index, s.from, e.d); err != nil {
		return fail("%v", err)
	}
	spend, err := s.out.ParseWitness(tx.TxIn[0].Witness)
	if err != nil {
		return fail("%v", err)
	}
	if spend.Leaf.Kind != script.SlashingPath {
		return fail("it spends the %s leaf", spend.Leaf.Kind)
	}
	var signed []script.SignatureSlot
	for _, sl := range spend.Covenant {
		if sl.Sig != nil {
			signed = append(signed, sl)
		}
	}
	if i := firstInvalid(signed, h); i >= 0 {
		return fail("covenant member %s's signature does not verify", signed[i].Key)
	}
	if n := len(signed); n != int(e.p.CovenantQuorum()) {
		return fail("%d covenant signatures, the leaf takes exactly %d", n, e.p.CovenantQuorum())
	}
	if err := psbt.VerifyTx(tx, p); err != nil {
		return fail("%v", err)
	}
	return nil
}

// firstInvalid verifies the signatures of slots against the sighash h in
// one batch (BIP-340 batch verification, internal/secp.VerifyBatch) and
// returns the index of the first that is not its key's 64-byte
// (SIGHASH_DEFAULT) BIP-340 signature of h, or -1 if all are.
func firstInvalid(slots []script.SignatureSlot, h []byte) int {
	keys := make([]secp.PubKey, len(slots))
	items := make([]secp.BatchItem, len(slots))
	for i, sl := range slots {
		k, ok := secp.ParsePubKey((*[32]byte)(&sl.Key))
		if !ok || len(sl.Sig) != schnorr.SignatureSize {
			continue // no key: the item fails in the batch
		}
		keys[i] = k
		items[i] = secp.BatchItem{Key: &keys[i], R: [32]byte(sl.Sig[:32]), S: [32]byte(sl.Sig[32:]), Msg: h}
	}
	if f := secp.VerifyBatch(items); len(f) > 0 {
		return f[0].Index
	}
	return -1
}

// verifySchnorr reports whether sig (64 bytes, SIGHASH_DEFAULT) is k's
// BIP-340 signature of h.
func verifySchnorr(k script.XOnlyKey, h, sig []byte) bool {
	if len(sig) != schnorr.SignatureSize {
		return false
	}
	pk, err := k.PubKey()
	if err != nil {
		return false
	}
	sg, err := schnorr.ParseSignature(sig)
	return err == nil && sg.Verify(h, pk)
}

// RecoverKey recovers a finality provider's secret key from a slashing of
// the entry seen on chain: input of tx spends the entry's staking output
// or its unbonding output (the unbonding transaction's output 0) through
// the slashing leaf.
//
//  1. The input must spend one of those outputs, through that output's
//     slashing leaf (script.Output.ParseWitness), with exactly one finality
//     provider's slot signed (ErrNotSlashing otherwise): that provider is
//     fp.
//  2. The entry must hold the slashing PSBT of that output
//     (ErrNoSlashingTx); its adaptor signatures encrypted to fp by the
//     covenant members who signed tx are the candidates (none: a
//     *MissingAdaptorSigsError naming the signing members,
//     ErrMissingAdaptorSigs).
//  3. For each candidate, psbt.RecoverFinalityProviderKey extracts the key
//     from the member's completed signature; the first key whose x-only
//     public key is fp's is returned (ErrKeyRecovery when none is: tx is
//     not the transaction the covenant adaptor-signed).
//
// sk is the BIP-340-normalised key (its public key has fp's x coordinate
// and an even y); fp is the delegation's key as the entry holds it.
func RecoverKey(e *Entry, tx *wire.MsgTx, input int) (fp *btcec.PublicKey, sk *btcec.PrivateKey, err error) {
	if e == nil {
		return nil, nil, fmt.Errorf("%w: no entry", ErrNotSlashing)
	}
	if tx == nil || input < 0 || input >= len(tx.TxIn) {
		return nil, nil, fmt.Errorf("%w: no input %d", ErrNotSlashing, input)
	}
	// Step 1.
	txid := tx.TxHash()
	op := tx.TxIn[input].PreviousOutPoint
	from := script.StakingOutputKind
	switch {
	case op == e.StakingOutPoint():
	case e.unbondingTx != nil && op == wire.OutPoint{Hash: e.unbondingTx.TxHash(), Index: 0}:
		from = script.UnbondingOutputKind
	default:
		return nil, nil, fmt.Errorf("%w: input %d of %s spends %s, neither the staking nor the unbonding output of delegation %s",
			ErrNotSlashing, input, txid, op, e.ID())
	}
	out, err := e.d.Output(from)
	if err != nil {
		return nil, nil, err
	}
	spend, err := out.ParseWitness(tx.TxIn[input].Witness)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: input %d of %s: %w", ErrNotSlashing, input, txid, err)
	}
	if spend.Leaf.Kind != script.SlashingPath {
		return nil, nil, fmt.Errorf("%w: input %d of %s spends the %s leaf", ErrNotSlashing, input, txid, spend.Leaf.Kind)
	}
	var culprit script.XOnlyKey
	signed := 0
	for _, sl := range spend.FinalityProviders {
		if sl.Sig != nil {
			culprit = sl.Key
			signed++
		}
	}
	if signed != 1 {
		return nil, nil, fmt.Errorf("%w: input %d of %s has %d finality provider signatures, a slashing has one", ErrNotSlashing, input, txid, signed)
	}
	fp, ok := e.fpKey(culprit)
	if !ok {
		return nil, nil, fmt.Errorf("%w: %s is not a finality provider of delegation %s", ErrNotFinalityProvider, culprit, e.ID())
	}
	// Step 2.
	s, err := e.slashingInput(from)
	if err != nil {
		return nil, nil, err
	}
	sigs, err := psbt.AdaptorSigs(s.pkt, 0)
	if err != nil {
		return nil, nil, err
	}
	var cands []psbt.AdaptorSig
	var signers []string
	for _, sl := range spend.Covenant {
		if sl.Sig == nil {
			continue
		}
		signers = append(signers, sl.Key.String())
		for _, a := range sigs {
			if a.Covenant == sl.Key && a.FinalityProvider == culprit && a.LeafHash == s.path.LeafHash {
				cands = append(cands, a)
			}
		}
	}
	if len(cands) == 0 {
		return nil, nil, &MissingAdaptorSigsError{Delegation: e.ID(), Output: from, FinalityProvider: culprit.String(),
			Missing: signers, Needed: 1}
	}
	// Step 3.
	var last error
	for _, a := range cands {
		k, err := psbt.RecoverFinalityProviderKey(tx, input, a)
		if err != nil {
			last = err
			continue
		}
		if script.XOnly(k.PubKey()) != culprit {
			last = fmt.Errorf("covenant member %s's signature yields a key of %s", a.Covenant, script.XOnly(k.PubKey()))
			continue
		}
		return fp, k, nil
	}
	return nil, nil, fmt.Errorf("%w: slashing %s of delegation %s, finality provider %s: %v", ErrKeyRecovery, txid, e.ID(), culprit, last)
}
