package psbt

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/psbt/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"
	"github.com/decred/dcrd/dcrec/secp256k1/v4"

	"github.com/btcstake/btcstake/script"
)

// checkPacket refuses a packet this package cannot read without
// panicking: none, no transaction, or not one input entry per input and
// one output entry per output (only a hand-built packet can be so).
func checkPacket(p *psbt.Packet) error {
	switch {
	case p == nil || p.UnsignedTx == nil:
		return fmt.Errorf("%w: no packet or no unsigned transaction", ErrInvalidPSBT)
	case len(p.Inputs) != len(p.UnsignedTx.TxIn) || len(p.Outputs) != len(p.UnsignedTx.TxOut):
		return fmt.Errorf("%w: %d input and %d output entries for a transaction with %d inputs and %d outputs",
			ErrInvalidPSBT, len(p.Inputs), len(p.Outputs), len(p.UnsignedTx.TxIn), len(p.UnsignedTx.TxOut))
	}
	for i, in := range p.UnsignedTx.TxIn {
		if in == nil {
			return fmt.Errorf("%w: input %d is nil", ErrInvalidPSBT, i)
		}
	}
	for i, o := range p.UnsignedTx.TxOut {
		if o == nil {
			return fmt.Errorf("%w: output %d is nil", ErrInvalidPSBT, i)
		}
	}
	return nil
}

// prevOuts returns a fetcher over every input's spent output, as the
// taproot sighash needs them all.
func prevOuts(p *psbt.Packet) (*txscript.MultiPrevOutFetcher, error) {
	if err := checkPacket(p); err != nil {
		return nil, err
	}
	m := make(map[wire.OutPoint]*wire.TxOut, len(p.Inputs))
	for i, in := range p.UnsignedTx.TxIn {
		pi := &p.Inputs[i]
		op := in.PreviousOutPoint
		var full *wire.TxOut
		if pi.NonWitnessUtxo != nil {
			if pi.NonWitnessUtxo.TxHash() != op.Hash || int(op.Index) >= len(pi.NonWitnessUtxo.TxOut) {
				return nil, fmt.Errorf("%w: input %d: non_witness_utxo is not the spent transaction", ErrInvalidPSBT, i)
			}
			full = pi.NonWitnessUtxo.TxOut[op.Index]
		}
		switch {
		case pi.WitnessUtxo != nil:
			// A witness_utxo that contradicts the spent transaction would
			// misstate the value a legacy signature (which does not commit
			// to it) spends, and so the fee.
			if full != nil && (full.Value != pi.WitnessUtxo.Value || !bytes.Equal(full.PkScript, pi.WitnessUtxo.PkScript)) {
				return nil, fmt.Errorf("%w: input %d: witness_utxo differs from the output non_witness_utxo creates", ErrInvalidPSBT, i)
			}
			m[op] = pi.WitnessUtxo
		case full != nil:
			m[op] = full
		default:
			return nil, fmt.Errorf("%w: %w: input %d has neither witness_utxo nor non_witness_utxo", ErrInvalidPSBT, ErrUnknownSpentOutput, i)
		}
	}
	return txscript.NewMultiPrevOutFetcher(m), nil
}

// tapLeaf returns the single leaf script an input of ours spends.
func tapLeaf(p *psbt.Packet, idx int) (*psbt.TaprootTapLeafScript, *script.Leaf, error) {
	if err := checkPacket(p); err != nil {
		return nil, nil, err
	}
	if idx < 0 || idx >= len(p.Inputs) {
		return nil, nil, fmt.Errorf("%w: no input %d", ErrWrongInput, idx)
	}
	ls := p.Inputs[idx].TaprootLeafScript
	if len(ls) != 1 {
		return nil, nil, fmt.Errorf("%w: input %d has %d tap leaf scripts, want 1", ErrNotSignable, idx, len(ls))
	}
	leaf, err := script.ParseLeafScript(ls[0].Script)
	if err != nil {
		return nil, nil, fmt.Errorf("input %d: %w", idx, err)
	}
	return ls[0], leaf, nil
}

// leafRoles lists the x-only keys that sign a leaf.
func leafKeys(l *script.Leaf) []script.XOnlyKey {
	keys := []script.XOnlyKey{l.Staker}
	keys = append(keys, l.FinalityProviders...)
	return append(keys, l.Covenant...)
}

// TapscriptSigHash is the BIP-341 script-path sighash (SIGHASH_DEFAULT) of
// input idx for the leaf it carries.
func TapscriptSigHash(p *psbt.Packet, idx int) ([]byte, error) {
	ls, _, err := tapLeaf(p, idx)
	if err != nil {
		return nil, err
	}
	fetch, err := prevOuts(p)
	if err != nil {
		return nil, err
	}
	return txscript.CalcTapscriptSignaturehash(txscript.NewTxSigHashes(p.UnsignedTx, fetch),
		txscript.SigHashDefault, p.UnsignedTx, idx, fetch, txscript.NewBaseTapLeaf(ls.Script))
}

// SignTapscript signs input idx's leaf with key and records the signature
// as tap_script_sig; signing twice replaces the earlier signature. The
// packet is changed only on success.
//
// It signs only as the staker. It refuses (ErrSlashingLeafRole) a covenant
// or finality-provider key on a slashing leaf: covenant members put
// adaptor signatures there, and the provider's slot is filled only by
// CompleteSlashing from its extracted key, so that a slashing transaction
// can never be completed without the provider's key. It refuses
// (ErrUncheckedCovenant) a covenant key on any other leaf: a covenant
// member signs through CovenantSigner, which first checks the transaction
// against the delegation. A key with no slot in the leaf is ErrNotSignable.
func SignTapscript(p *psbt.Packet, idx int, key *btcec.PrivateKey) error {
	_, leaf, err := tapLeaf(p, idx)
	if err != nil {
		return err
	}
	if key == nil {
		return fmt.Errorf("%w: no key", ErrNotSignable)
	}
	x := script.XOnly(key.PubKey())
	switch role := leaf.Role(x); {
	case role == script.NoRole:
		return fmt.Errorf("%w: key %s has no slot in the %s leaf of input %d", ErrNotSignable, x, leaf.Kind, idx)
	case leaf.Kind == script.SlashingPath && role != script.StakerRole:
		return fmt.Errorf("%w: key %s is a %s of input %d's slashing leaf", ErrSlashingLeafRole, x, role, idx)
	case role == script.CovenantRole:
		return fmt.Errorf("%w: key %s is a covenant member of input %d's %s leaf", ErrUncheckedCovenant, x, idx, leaf.Kind)
	}
	return signTapscript(p, idx, key)
}

// signTapscript signs input idx's leaf with any key that has a slot in it,
// without the role rules of SignTapscript: for CovenantSigner (after its
// checks) and CompleteSlashing (the provider's extracted key).
func signTapscript(p *psbt.Packet, idx int, key *btcec.PrivateKey) error {
	h, err := TapscriptSigHash(p, idx)
	if err != nil {
		return err
	}
	sig, err := schnorr.Sign(key, h)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrNotSignable, err)
	}
	return AddTapscriptSig(p, idx, script.XOnly(key.PubKey()), sig.Serialize())
}

// AddTapscriptSig records a 64-byte signature for key on input idx's leaf,
// after checking that the key has a slot in the leaf (ErrNotSignable) and
// that the signature verifies (ErrBadSignature). It replaces an earlier
// signature by the same key for the same leaf.
func AddTapscriptSig(p *psbt.Packet, idx int, key script.XOnlyKey, sig []byte) error {
	ls, leaf, err := tapLeaf(p, idx)
	if err != nil {
		return err
	}
	if !slices.Contains(leafKeys(leaf), key) {
		return fmt.Errorf("%w: key %s has no slot in the %s leaf of input %d", ErrNotSignable, key, leaf.Kind, idx)
	}
	h, err := TapscriptSigHash(p, idx)
	if err != nil {
		return err
	}
	if err := verifySchnorr(key, h, sig); err != nil {
		return fmt.Errorf("input %d, key %s: %w", idx, key, err)
	}
	recordTapscriptSig(p, idx, ls, key, sig)
	return nil
}

// recordTapscriptSig records a verified signature for key on input idx's
// leaf ls, replacing an earlier one by the same key.
func recordTapscriptSig(p *psbt.Packet, idx int, ls *psbt.TaprootTapLeafScript, key script.XOnlyKey, sig []byte) {
	lh := leafHash(ls.Script)
	in := &p.Inputs[idx]
	entry := &psbt.TaprootScriptSpendSig{XOnlyPubKey: key.Bytes(), LeafHash: lh[:], Signature: bytes.Clone(sig),
		SigHash: txscript.SigHashDefault}
	for i, s := range in.TaprootScriptSpendSig {
		if entry.EqualKey(s) {
			in.TaprootScriptSpendSig[i] = entry
			return
		}
	}
	in.TaprootScriptSpendSig = append(in.TaprootScriptSpendSig, entry)
}

func verifySchnorr(key script.XOnlyKey, hash, sig []byte) error {
	return verifySchnorrBatch([]sigCheck{{key, hash, sig}})[0]
}

// VerifyTapscriptSigs checks every tap_script_sig of every input against the
// input's sighash and leaf; it returns the number checked.
func VerifyTapscriptSigs(p *psbt.Packet) (int, error) {
	if err := checkPacket(p); err != nil {
		return 0, err
	}
	// The structural checks run in order and stop at the first failure;
	// the signatures before it are then verified in one batch, and the
	// first of them that does not verify is reported instead, so the
	// error (and the count) are what checking one by one in order gives.
	type where struct {
		input int
		key   script.XOnlyKey
	}
	var checks []sigCheck
	var at []where
	var stop error
	func() {
		for i := range p.Inputs {
			if len(p.Inputs[i].TaprootScriptSpendSig) == 0 {
				continue
			}
			ls, leaf, err := tapLeaf(p, i)
			if err != nil {
				stop = err
				return
			}
			h, err := TapscriptSigHash(p, i)
			if err != nil {
				stop = err
				return
			}
			lh := leafHash(ls.Script)
			for _, s := range p.Inputs[i].TaprootScriptSpendSig {
				if !bytes.Equal(s.LeafHash, lh[:]) {
					stop = fmt.Errorf("%w: input %d has a signature for another leaf", ErrBadSignature, i)
					return
				}
				x, err := script.ParseXOnlyKey(s.XOnlyPubKey)
				if err != nil {
					stop = err
					return
				}
				if !slices.Contains(leafKeys(leaf), x) {
					stop = fmt.Errorf("%w: input %d: key %s has no slot in the leaf", ErrBadSignature, i, x)
					return
				}
				if s.SigHash != txscript.SigHashDefault {
					stop = fmt.Errorf("%w: input %d: sighash type %v, want SIGHASH_DEFAULT", ErrBadSignature, i, s.SigHash)
					return
				}
				checks = append(checks, sigCheck{x, h, s.Signature})
				at = append(at, where{i, x})
			}
		}
	}()
	for n, err := range verifySchnorrBatch(checks) {
		if err != nil {
			return n, fmt.Errorf("input %d, key %s: %w", at[n].input, at[n].key, err)
		}
	}
	return len(checks), stop
}

// SignFundingInputs signs every P2WPKH, P2TR key-path, P2PKH and
// P2SH-P2WPKH input whose key is among keys (the staking transaction's
// funding coins), adding partial_sig or tap_key_sig fields. It returns the
// number of inputs signed. A P2PKH input must carry its non_witness_utxo
// (ErrMissingPrevTx otherwise): its signature does not commit to the value
// spent, which only the previous transaction proves. The packet is changed
// only on success.
func SignFundingInputs(p *psbt.Packet, keys ...*btcec.PrivateKey) (int, error) {
	if slices.Contains(keys, nil) {
		return 0, fmt.Errorf("%w: nil key", ErrNotSignable)
	}
	cp, err := clonePacket(p)
	if err != nil {
		return 0, err
	}
	n, err := signFundingInputs(cp, keys)
	if err != nil {
		return 0, err
	}
	*p = *cp
	return n, nil
}

// SignFundingInput signs funding input idx with key if the key owns the
// coin (as SignFundingInputs does for every input), replacing an earlier
// signature by the same key. It reports whether it signed. The packet is
// changed only on success.
func SignFundingInput(p *psbt.Packet, idx int, key *btcec.PrivateKey) (bool, error) {
	if key == nil {
		return false, fmt.Errorf("%w: nil key", ErrNotSignable)
	}
	if err := checkPacket(p); err != nil {
		return false, err
	}
	if idx < 0 || idx >= len(p.Inputs) {
		return false, fmt.Errorf("%w: no input %d", ErrWrongInput, idx)
	}
	cp, err := clonePacket(p)
	if err != nil {
		return false, err
	}
	n, err := signFundingInputsAt(cp, []*btcec.PrivateKey{key}, func(i int) bool { return i == idx })
	if err != nil || n == 0 {
		return false, err
	}
	*p = *cp
	return true, nil
}

func signFundingInputs(p *psbt.Packet, keys []*btcec.PrivateKey) (int, error) {
	return signFundingInputsAt(p, keys, func(int) bool { return true })
}

func signFundingInputsAt(p *psbt.Packet, keys []*btcec.PrivateKey, want func(int) bool) (int, error) {
	fetch, err := prevOuts(p)
	if err != nil {
		return 0, err
	}
	hashes := txscript.NewTxSigHashes(p.UnsignedTx, fetch)
	signed := 0
	for i, txin := range p.UnsignedTx.TxIn {
		pi := &p.Inputs[i]
		if !want(i) || len(pi.TaprootLeafScript) > 0 || pi.FinalScriptWitness != nil || pi.FinalScriptSig != nil {
			continue
		}
		prev := fetch.FetchPrevOutput(txin.PreviousOutPoint)
		kind, err := classify(prev.PkScript)
		if err != nil {
			continue
		}
		for _, k := range keys {
			ok, err := signKeyInput(p, i, kind, prev, hashes, fetch, k)
			if err != nil {
				return signed, err
			}
			if ok {
				signed++
				break
			}
		}
	}
	return signed, nil
}

func signKeyInput(p *psbt.Packet, i int, kind InputKind, prev *wire.TxOut, hashes *txscript.TxSigHashes,
	fetch txscript.PrevOutputFetcher, k *btcec.PrivateKey) (bool, error) {

	pub := k.PubKey()
	pkh := address.Hash160(pub.SerializeCompressed())
	wpkh := append([]byte{0x00, 0x14}, pkh...)
	pi := &p.Inputs[i]
	switch kind {
	case P2TRKeyPath:
		q := txscript.ComputeTaprootKeyNoScript(pub)
		if !bytes.Equal(prev.PkScript[2:], schnorr.SerializePubKey(q)) {
			return false, nil
		}
		sig, err := txscript.RawTxInTaprootSignature(p.UnsignedTx, hashes, i, prev.Value, prev.PkScript, nil,
			txscript.SigHashDefault, k)
		if err != nil {
			return false, fmt.Errorf("%w: input %d: %v", ErrNotSignable, i, err)
		}
		pi.TaprootKeySpendSig = sig
		pi.TaprootInternalKey = schnorr.SerializePubKey(pub)
		return true, nil
	case P2WPKH, P2SHP2WPKH:
		if kind == P2WPKH && !bytes.Equal(prev.PkScript, wpkh) {
			return false, nil
		}
		if kind == P2SHP2WPKH {
			if !bytes.Equal(prev.PkScript[2:22], address.Hash160(wpkh)) {
				return false, nil
			}
			pi.RedeemScript = wpkh
		}
		scriptCode := append(append([]byte{0x76, 0xa9, 0x14}, pkh...), 0x88, 0xac)
		h, err := txscript.CalcWitnessSigHash(scriptCode, hashes, txscript.SigHashAll, p.UnsignedTx, i, prev.Value)
		if err != nil {
			return false, fmt.Errorf("%w: input %d: %v", ErrNotSignable, i, err)
		}
		setPartialSig(pi, &psbt.PartialSig{PubKey: pub.SerializeCompressed(), Signature: signECDSA(k, h)})
		return true, nil
	case P2PKH:
		want := append(append([]byte{0x76, 0xa9, 0x14}, pkh...), 0x88, 0xac)
		if !bytes.Equal(prev.PkScript, want) {
			return false, nil
		}
		if pi.NonWitnessUtxo == nil {
			return false, fmt.Errorf("%w: input %d is p2pkh and its psbt has no non_witness_utxo, so the value it spends cannot be checked", ErrMissingPrevTx, i)
		}
		h, err := txscript.CalcSignatureHash(prev.PkScript, txscript.SigHashAll, p.UnsignedTx, i)
		if err != nil {
			return false, fmt.Errorf("%w: input %d: %v", ErrNotSignable, i, err)
		}
		setPartialSig(pi, &psbt.PartialSig{PubKey: pub.SerializeCompressed(), Signature: signECDSA(k, h)})
		return true, nil
	}
	return false, nil
}

// setPartialSig records a partial signature, replacing an earlier one by
// the same key: two entries with one key would make the PSBT unparseable
// (BIP-174 forbids duplicate keys).
func setPartialSig(pi *psbt.PInput, s *psbt.PartialSig) {
	for i, old := range pi.PartialSigs {
		if bytes.Equal(old.PubKey, s.PubKey) {
			pi.PartialSigs[i] = s
			return
		}
	}
	pi.PartialSigs = append(pi.PartialSigs, s)
}

// signECDSA returns a DER signature of hash with SIGHASH_ALL appended,
// always 71 bytes long: RFC 6979 nonces, with extra data counting up (as
// Bitcoin Core grinds for low R) until both r and s encode in exactly 32
// bytes with the top bit clear, and low S. Not constant time in the number
// of attempts (about two on average), which depends only on public values.
func signECDSA(k *btcec.PrivateKey, hash []byte) []byte {
	priv := k.Key.Bytes()
	defer func() {
		for i := range priv {
			priv[i] = 0
		}
	}()
	var e secp256k1.ModNScalar
	e.SetByteSlice(hash)
	for counter := uint32(0); ; counter++ {
		// Step 1: nonce k = RFC6979(d, hash, extra = counter) (no extra data
		// on the first attempt, as in plain RFC 6979).
		var extra []byte
		if counter > 0 {
			extra = make([]byte, 32)
			binary.LittleEndian.PutUint32(extra, counter)
		}
		nonce := secp256k1.NonceRFC6979(priv[:], hash, extra, nil, 0)
		// Step 2: R = k*G, r = x(R) mod n.
		var R secp256k1.JacobianPoint
		secp256k1.ScalarBaseMultNonConst(nonce, &R)
		R.ToAffine()
		var r secp256k1.ModNScalar
		xb := R.X.Bytes()
		r.SetBytes(xb)
		if r.IsZero() {
			nonce.Zero()
			continue
		}
		// Step 3: s = k^-1 (e + r*d) mod n, then low S.
		var s secp256k1.ModNScalar
		s.Mul2(&r, &k.Key).Add(&e)
		kinv := new(secp256k1.ModNScalar).InverseValNonConst(nonce)
		s.Mul(kinv)
		nonce.Zero()
		kinv.Zero()
		if s.IsZero() {
			continue
		}
		if s.IsOverHalfOrder() {
			s.Negate()
		}
		der := ecdsa.NewSignature(&r, &s).Serialize()
		if len(der) == ecdsaSigLen-1 {
			return append(der, byte(txscript.SigHashAll))
		}
	}
}

// leafHash is the BIP-341 tap leaf hash of a base-version leaf script.
func leafHash(s []byte) chainhash.Hash {
	return script.TapLeaf{Version: script.BaseLeafVersion, Script: s}.Hash()
}
