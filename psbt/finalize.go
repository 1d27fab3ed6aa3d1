package psbt

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"slices"

	"github.com/btcsuite/btcd/psbt/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/script"
)

// Decode parses a PSBT from base64 or raw bytes and checks it is sane.
func Decode(b []byte) (*psbt.Packet, error) {
	raw := bytes.TrimSpace(b)
	if !bytes.HasPrefix(raw, []byte("psbt\xff")) {
		dec, err := base64.StdEncoding.DecodeString(string(raw))
		if err != nil {
			return nil, fmt.Errorf("%w: neither raw nor base64: %v", ErrInvalidPSBT, err)
		}
		raw = dec
	}
	p, err := psbt.NewFromRawBytes(bytes.NewReader(raw), false)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidPSBT, err)
	}
	if err := p.SanityCheck(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidPSBT, err)
	}
	return p, nil
}

// Encode serialises a PSBT as base64.
func Encode(p *psbt.Packet) (string, error) {
	if err := checkPacket(p); err != nil {
		return "", err
	}
	s, err := p.B64Encode()
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrInvalidPSBT, err)
	}
	return s, nil
}

// clonePacket deep-copies a packet through its serialisation.
func clonePacket(p *psbt.Packet) (*psbt.Packet, error) {
	if err := checkPacket(p); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := p.Serialize(&buf); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidPSBT, err)
	}
	c, err := psbt.NewFromRawBytes(&buf, false)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidPSBT, err)
	}
	return c, nil
}

// Finalize assembles the final witness (or scriptSig) of every input,
// checks each, and returns the network transaction.
// Script-path inputs of the staking protocol get the witness their leaf
// demands (docs/spec.md §5): staker signature, exactly one finality
// provider and exactly quorum covenant signatures in descending slot order.
// Signatures that do not verify are left out (all of an input's
// signatures are verified in one batch). When more covenant members
// (or finality providers) signed validly than the leaf takes, the
// signatures of the smallest keys are used. Other inputs (the
// staking transaction's funding coins) are finalised by btcd's finaliser.
//
// The finished inputs are checked as consensus would: those spending a
// staking leaf by checkLeafSpend (the witness parsed back, the control
// block's commitment to the spent output, every signature one of those
// the batch verified, the quorum, the time lock), all others by btcd's
// script engine. VerifyTx runs the engine over every input, for callers
// who want that check too; it repeats the signature verifications one by
// one with btcec, which would more than double the cost of Finalize.
//
// On any error p is left unchanged; on success its inputs are finalised.
func Finalize(p *psbt.Packet) (*wire.MsgTx, error) {
	if err := checkPacket(p); err != nil {
		return nil, err
	}
	// Finalising replaces input entries (btcd's finaliser swaps in a new
	// PInput; finalizeTapscript assigns fields of its own copy) and never
	// writes into what they point to, so a copy of the input slice keeps p
	// unchanged on error (a full clone, a serialisation round trip, would
	// cost a tenth of the whole).
	cp := *p
	cp.Inputs = slices.Clone(p.Inputs)
	ours := map[int]map[script.XOnlyKey][]byte{}
	for i := range cp.Inputs {
		pi := &cp.Inputs[i]
		if pi.FinalScriptWitness != nil || pi.FinalScriptSig != nil {
			continue
		}
		if len(pi.TaprootLeafScript) > 0 {
			verified, err := finalizeTapscript(&cp, i)
			if err != nil {
				return nil, err
			}
			ours[i] = verified
			continue
		}
		if err := psbt.Finalize(&cp, i); err != nil {
			return nil, fmt.Errorf("%w: input %d: %v", ErrNotFinalizable, i, err)
		}
	}
	tx, err := psbt.Extract(&cp)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotFinalizable, err)
	}
	if err := verifyFinalized(tx, &cp, ours); err != nil {
		return nil, err
	}
	*p = cp
	return tx, nil
}

// verifyFinalized checks every input of the finalised tx: the staking-leaf
// spends Finalize assembled (ours: input -> the signatures it verified)
// by checkLeafSpend, the others with btcd's script engine.
func verifyFinalized(tx *wire.MsgTx, p *psbt.Packet, ours map[int]map[script.XOnlyKey][]byte) error {
	fetch, err := prevOuts(p)
	if err != nil {
		return err
	}
	for i, in := range tx.TxIn {
		if in == nil || fetch.FetchPrevOutput(in.PreviousOutPoint) == nil {
			return fmt.Errorf("%w: input %d spends an output the psbt does not describe", ErrInvalidPSBT, i)
		}
	}
	var hashes *txscript.TxSigHashes
	for i, in := range tx.TxIn {
		prev := fetch.FetchPrevOutput(in.PreviousOutPoint)
		if verified, ok := ours[i]; ok {
			if err := checkLeafSpend(tx, i, prev, verified); err != nil {
				return fmt.Errorf("%w: input %d: %v", ErrScriptValidation, i, err)
			}
			continue
		}
		if hashes == nil {
			hashes = txscript.NewTxSigHashes(tx, fetch)
		}
		if err := execInput(tx, i, prev, hashes, fetch); err != nil {
			return err
		}
	}
	return nil
}

// checkLeafSpend checks input idx of tx, which spends a staking leaf, as
// executing its witness would, given the signatures (by key) that were
// verified against the input's sighash:
//
//  1. the witness parses as a spend of a staking leaf (script.ParseWitness:
//     the canonical leaf script, a tapscript control block, one item per
//     slot);
//  2. the control block commits the leaf to the spent output's key
//     (BIP-341);
//  3. every nonempty slot holds a verified 64-byte signature of its key
//     (in tapscript a nonempty invalid signature fails the script);
//  4. the staker signed; a slashing leaf has exactly one finality
//     provider's signature, and unbonding and slashing leaves exactly
//     quorum covenant signatures (the threshold checks are NUMEQUAL);
//  5. a timelock leaf's OP_CHECKSEQUENCEVERIFY holds: version >= 2 (read
//     as unsigned), the input's relative lock enabled, in blocks, and at
//     least the leaf's.
func checkLeafSpend(tx *wire.MsgTx, idx int, prev *wire.TxOut, verified map[script.XOnlyKey][]byte) error {
	in := tx.TxIn[idx]
	// Step 1.
	spend, err := script.ParseWitness(in.Witness)
	if err != nil {
		return err
	}
	if spend.Annex != nil {
		return fmt.Errorf("unexpected annex")
	}
	// Step 2.
	if err := spend.ControlBlock.Commits(spend.Script, prev.PkScript); err != nil {
		return err
	}
	// Step 3.
	good := func(k script.XOnlyKey, sig []byte) (bool, error) {
		if len(sig) == 0 {
			return false, nil
		}
		if v, ok := verified[k]; !ok || len(sig) != 64 || !bytes.Equal(v, sig) {
			return false, fmt.Errorf("the signature of %s is not a verified SIGHASH_DEFAULT signature", k)
		}
		return true, nil
	}
	count := func(slots []script.SignatureSlot) (int, error) {
		n := 0
		for _, sl := range slots {
			ok, err := good(sl.Key, sl.Sig)
			if err != nil {
				return 0, err
			}
			if ok {
				n++
			}
		}
		return n, nil
	}
	// Step 4.
	leaf := spend.Leaf
	if ok, err := good(leaf.Staker, spend.Staker); err != nil {
		return err
	} else if !ok {
		return fmt.Errorf("the staker's signature is missing")
	}
	if leaf.Kind == script.SlashingPath {
		n, err := count(spend.FinalityProviders)
		if err != nil {
			return err
		}
		if n != 1 {
			return fmt.Errorf("%d finality provider signatures, the leaf takes exactly 1", n)
		}
	}
	if leaf.Kind != script.TimelockPath {
		n, err := count(spend.Covenant)
		if err != nil {
			return err
		}
		if n != int(leaf.Quorum) {
			return fmt.Errorf("%d covenant signatures, the leaf takes exactly %d", n, leaf.Quorum)
		}
		return nil
	}
	// Step 5 (BIP-68/112 for a block-based lock).
	const disable, typeFlag, mask = 1 << 31, 1 << 22, 0xffff
	switch {
	case uint32(tx.Version) < 2:
		// Consensus reads the version as unsigned here (BIP-68/112): a
		// negative version is a large one and enforces the lock.
		return fmt.Errorf("OP_CHECKSEQUENCEVERIFY needs transaction version 2 or more, got %d", tx.Version)
	case in.Sequence&disable != 0:
		return fmt.Errorf("sequence %#x disables the relative lock", in.Sequence)
	case in.Sequence&typeFlag != 0:
		return fmt.Errorf("sequence %#x is a time-based lock, the leaf's is in blocks", in.Sequence)
	case in.Sequence&mask < uint32(leaf.Timelock):
		return fmt.Errorf("sequence %d blocks is below the leaf's time lock %d", in.Sequence&mask, leaf.Timelock)
	}
	return nil
}

// execInput runs input i of tx against prev with btcd's script engine
// (standard verification flags).
func execInput(tx *wire.MsgTx, i int, prev *wire.TxOut, hashes *txscript.TxSigHashes, fetch txscript.PrevOutputFetcher) error {
	vm, err := txscript.NewEngine(prev.PkScript, tx, i, txscript.StandardVerifyFlags, nil, hashes, prev.Value, fetch)
	if err == nil {
		err = vm.Execute()
	}
	if err != nil {
		return fmt.Errorf("%w: input %d: %v", ErrScriptValidation, i, err)
	}
	return nil
}

// VerifyTx executes every input of tx with btcd's script engine (standard
// verification flags) against the spent outputs recorded in p.
func VerifyTx(tx *wire.MsgTx, p *psbt.Packet) error {
	fetch, err := prevOuts(p)
	if err != nil {
		return err
	}
	if tx == nil {
		return fmt.Errorf("%w: no transaction", ErrInvalidPSBT)
	}
	for i, in := range tx.TxIn {
		if in == nil || fetch.FetchPrevOutput(in.PreviousOutPoint) == nil {
			return fmt.Errorf("%w: input %d spends an output the psbt does not describe", ErrInvalidPSBT, i)
		}
	}
	hashes := txscript.NewTxSigHashes(tx, fetch)
	for i, in := range tx.TxIn {
		prev := fetch.FetchPrevOutput(in.PreviousOutPoint)
		if err := execInput(tx, i, prev, hashes, fetch); err != nil {
			return err
		}
	}
	return nil
}

// finalizeTapscript finalises a script-path input of ours and returns the
// signatures it verified, by key.
func finalizeTapscript(p *psbt.Packet, idx int) (map[script.XOnlyKey][]byte, error) {
	ls, leaf, err := tapLeaf(p, idx)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotFinalizable, err)
	}
	lh := leafHash(ls.Script)
	h, err := TapscriptSigHash(p, idx)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotFinalizable, err)
	}
	// Signatures combined from other PSBTs were never checked: one that
	// does not verify is left out, so it cannot take the slot of a valid
	// one (the leaf takes exactly quorum covenant signatures). All of
	// them are verified in one batch.
	var checks []sigCheck
	for _, s := range p.Inputs[idx].TaprootScriptSpendSig {
		if !bytes.Equal(s.LeafHash, lh[:]) || s.SigHash != txscript.SigHashDefault {
			continue
		}
		// A key that is not a curve point fails in the batch (lifting it
		// there once, not here as well).
		if len(s.XOnlyPubKey) == 32 {
			checks = append(checks, sigCheck{script.XOnlyKey(s.XOnlyPubKey), h, s.Signature})
		} else if k, err := script.ParseXOnlyKey(s.XOnlyPubKey); err == nil {
			checks = append(checks, sigCheck{k, h, s.Signature})
		}
	}
	have := map[script.XOnlyKey][]byte{}
	for i, err := range verifySchnorrBatch(checks) {
		if err == nil {
			have[checks[i].key] = checks[i].sig
		}
	}
	sigs := script.Signatures{Staker: have[leaf.Staker]}
	if sigs.Staker == nil {
		return nil, fmt.Errorf("%w: input %d: the staker has not signed the %s leaf (or its signature does not verify)", ErrNotFinalizable, idx, leaf.Kind)
	}
	if leaf.Kind != script.TimelockPath {
		sigs.Covenant, err = choose(have, leaf.Covenant, int(leaf.Quorum), "covenant", idx)
		if err != nil {
			return nil, err
		}
	}
	if leaf.Kind == script.SlashingPath {
		sigs.FinalityProviders, err = choose(have, leaf.FinalityProviders, 1, "finality provider", idx)
		if err != nil {
			return nil, err
		}
	}
	w, err := leaf.Witness(sigs, ls.ControlBlock)
	if err != nil {
		return nil, fmt.Errorf("%w: input %d: %v", ErrNotFinalizable, idx, err)
	}
	var buf bytes.Buffer
	if err := psbt.WriteTxWitness(&buf, w); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotFinalizable, err)
	}
	pi := &p.Inputs[idx]
	pi.FinalScriptWitness = buf.Bytes()
	// BIP-174: the finaliser clears all but the UTXO and unknown fields.
	pi.PartialSigs, pi.SighashType, pi.Bip32Derivation = nil, 0, nil
	pi.TaprootKeySpendSig, pi.TaprootScriptSpendSig, pi.TaprootLeafScript = nil, nil, nil
	pi.TaprootBip32Derivation, pi.TaprootInternalKey, pi.TaprootMerkleRoot = nil, nil, nil
	return have, nil
}

// choose picks exactly want signatures among keys (ascending), smallest keys
// first, failing if fewer are present.
func choose(have map[script.XOnlyKey][]byte, keys []script.XOnlyKey, want int, role string, idx int) (map[script.XOnlyKey][]byte, error) {
	out := map[script.XOnlyKey][]byte{}
	for _, k := range keys {
		if s, ok := have[k]; ok && len(out) < want {
			out[k] = s
		}
	}
	if len(out) < want {
		return nil, fmt.Errorf("%w: input %d: %d %s signature(s), the leaf needs %d", ErrNotFinalizable, idx, len(out), role, want)
	}
	return out, nil
}

// tapSigValid reports whether s verifies for input i's leaf in p.
func tapSigValid(p *psbt.Packet, i int, s *psbt.TaprootScriptSpendSig) bool {
	ls, _, err := tapLeaf(p, i)
	if err != nil {
		return false
	}
	lh := leafHash(ls.Script)
	if !bytes.Equal(s.LeafHash, lh[:]) || s.SigHash != txscript.SigHashDefault {
		return false
	}
	k, err := script.ParseXOnlyKey(s.XOnlyPubKey)
	if err != nil {
		return false
	}
	h, err := TapscriptSigHash(p, i)
	return err == nil && verifySchnorr(k, h, s.Signature) == nil
}

// Combine merges PSBTs of the same unsigned transaction signed by different
// parties (BIP-174 combiner) into a new packet: signatures, derivations and
// unknown fields of inputs and outputs are united; where two copies hold
// different tap_script_sig or adaptor-signature values for one key, one
// that verifies is kept; for the other fields (leaf scripts included) the
// first packet that has one wins. The inputs are not modified.
func Combine(pkts ...*psbt.Packet) (*psbt.Packet, error) {
	if len(pkts) == 0 {
		return nil, fmt.Errorf("%w: nothing to combine", ErrInvalidPSBT)
	}
	out, err := clonePacket(pkts[0])
	if err != nil {
		return nil, err
	}
	want := out.UnsignedTx.TxHash()
	for n, p := range pkts[1:] {
		if err := checkPacket(p); err != nil {
			return nil, fmt.Errorf("psbt %d: %w", n+1, err)
		}
		if p.UnsignedTx.TxHash() != want {
			return nil, fmt.Errorf("%w: psbt %d is for transaction %s, not %s", ErrInvalidPSBT, n+1, p.UnsignedTx.TxHash(), want)
		}
		c, err := clonePacket(p)
		if err != nil {
			return nil, err
		}
		for i := range out.Inputs {
			a, b := &out.Inputs[i], &c.Inputs[i]
			if a.WitnessUtxo == nil {
				a.WitnessUtxo = b.WitnessUtxo
			}
			if a.NonWitnessUtxo == nil {
				a.NonWitnessUtxo = b.NonWitnessUtxo
			}
			for _, s := range b.TaprootScriptSpendSig {
				if j := slices.IndexFunc(a.TaprootScriptSpendSig, s.EqualKey); j >= 0 {
					// Two copies disagree about one key's signature: keep
					// one that verifies, so a bad copy cannot shadow a good
					// one whatever the order.
					if !tapSigValid(out, i, a.TaprootScriptSpendSig[j]) && tapSigValid(out, i, s) {
						a.TaprootScriptSpendSig[j] = s
					}
				} else {
					a.TaprootScriptSpendSig = append(a.TaprootScriptSpendSig, s)
				}
			}
			for _, s := range b.PartialSigs {
				if !slices.ContainsFunc(a.PartialSigs, func(x *psbt.PartialSig) bool { return bytes.Equal(x.PubKey, s.PubKey) }) {
					a.PartialSigs = append(a.PartialSigs, s)
				}
			}
			if a.TaprootKeySpendSig == nil {
				a.TaprootKeySpendSig = b.TaprootKeySpendSig
			}
			for _, u := range b.Unknowns {
				j := slices.IndexFunc(a.Unknowns, func(x *psbt.Unknown) bool { return bytes.Equal(x.Key, u.Key) })
				switch {
				case j < 0:
					a.Unknowns = append(a.Unknowns, u)
				case !adaptorFieldValid(out, i, a.Unknowns[j]) && adaptorFieldValid(out, i, u):
					// Two copies of one covenant member's adaptor
					// signature disagree: keep one that verifies, as for
					// tap_script_sig above.
					a.Unknowns[j] = u
				}
			}
			if a.FinalScriptWitness == nil {
				a.FinalScriptWitness = b.FinalScriptWitness
			}
			if a.FinalScriptSig == nil {
				a.FinalScriptSig = b.FinalScriptSig
			}
			if a.FinalScriptWitness != nil || a.FinalScriptSig != nil {
				continue // final: BIP-174 keeps no scripts or derivations
			}
			// The leaf an input spends comes from the first packet that
			// names one: a second, different leaf from another copy would
			// make the input unsignable and unfinalisable.
			if len(a.TaprootLeafScript) == 0 {
				a.TaprootLeafScript = b.TaprootLeafScript
			}
			a.TaprootBip32Derivation = uniteTapDerivations(a.TaprootBip32Derivation, b.TaprootBip32Derivation)
			a.Bip32Derivation = uniteDerivations(a.Bip32Derivation, b.Bip32Derivation)
			a.TaprootInternalKey = orBytes(a.TaprootInternalKey, b.TaprootInternalKey)
			a.TaprootMerkleRoot = orBytes(a.TaprootMerkleRoot, b.TaprootMerkleRoot)
			a.RedeemScript = orBytes(a.RedeemScript, b.RedeemScript)
			a.WitnessScript = orBytes(a.WitnessScript, b.WitnessScript)
		}
		for i := range out.Outputs {
			a, b := &out.Outputs[i], &c.Outputs[i]
			a.TaprootBip32Derivation = uniteTapDerivations(a.TaprootBip32Derivation, b.TaprootBip32Derivation)
			a.Bip32Derivation = uniteDerivations(a.Bip32Derivation, b.Bip32Derivation)
			a.TaprootInternalKey = orBytes(a.TaprootInternalKey, b.TaprootInternalKey)
			a.TaprootTapTree = orBytes(a.TaprootTapTree, b.TaprootTapTree)
			a.RedeemScript = orBytes(a.RedeemScript, b.RedeemScript)
			a.WitnessScript = orBytes(a.WitnessScript, b.WitnessScript)
			for _, u := range b.Unknowns {
				if !slices.ContainsFunc(a.Unknowns, func(x *psbt.Unknown) bool { return bytes.Equal(x.Key, u.Key) }) {
					a.Unknowns = append(a.Unknowns, u)
				}
			}
		}
	}
	return out, nil
}

// orBytes is a unless it is empty, else b.
func orBytes(a, b []byte) []byte {
	if len(a) == 0 {
		return b
	}
	return a
}

// uniteTapDerivations adds to a the taproot derivations of b for keys a
// lacks (one entry per key, as BIP-174 requires).
func uniteTapDerivations(a, b []*psbt.TaprootBip32Derivation) []*psbt.TaprootBip32Derivation {
	for _, d := range b {
		if !slices.ContainsFunc(a, func(x *psbt.TaprootBip32Derivation) bool { return bytes.Equal(x.XOnlyPubKey, d.XOnlyPubKey) }) {
			a = append(a, d)
		}
	}
	return a
}

// uniteDerivations adds to a the BIP-32 derivations of b for keys a lacks.
func uniteDerivations(a, b []*psbt.Bip32Derivation) []*psbt.Bip32Derivation {
	for _, d := range b {
		if !slices.ContainsFunc(a, func(x *psbt.Bip32Derivation) bool { return bytes.Equal(x.PubKey, d.PubKey) }) {
			a = append(a, d)
		}
	}
	return a
}
