package pop

import (
	"bytes"
	"fmt"
	"io"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

// AddressType is the Bitcoin address a BIP-322 proof signs with.
type AddressType int

const (
	// P2TR is a BIP-86 key-path taproot address of the staker key: output
	// key Q = P + H_TapTweak(P)·G with P the x-only staker key.
	P2TR AddressType = iota
	// P2WPKH is a segwit v0 key-hash address of the 33-byte compressed
	// staker key.
	P2WPKH
)

// String returns "p2tr" or "p2wpkh".
func (t AddressType) String() string {
	switch t {
	case P2TR:
		return "p2tr"
	case P2WPKH:
		return "p2wpkh"
	default:
		return fmt.Sprintf("AddressType(%d)", int(t))
	}
}

// maxWitnessItems bounds the witness stack a BIP-322 signature may hold
// when parsed; a PoP uses one (P2TR) or two (P2WPKH) items.
const maxWitnessItems = 16

// bip322ToSpend builds BIP-322's to_spend transaction for msg and the
// output script being signed for:
//
//	version 0, locktime 0
//	input:  prevout 0000…0000:0xFFFFFFFF, sequence 0,
//	        scriptSig OP_0 PUSH32 message_hash (message_hash = tagged hash of msg)
//	output: value 0, scriptPubKey = pkScript
func bip322ToSpend(msg, pkScript []byte) *wire.MsgTx {
	h := bip322MessageHash(msg)
	scriptSig := make([]byte, 0, 34)
	scriptSig = append(scriptSig, txscript.OP_0, txscript.OP_DATA_32)
	scriptSig = append(scriptSig, h[:]...)
	tx := wire.NewMsgTx(0)
	tx.AddTxIn(&wire.TxIn{
		PreviousOutPoint: wire.OutPoint{Hash: chainhash.Hash{}, Index: 0xFFFFFFFF},
		SignatureScript:  scriptSig,
		Sequence:         0,
	})
	tx.AddTxOut(&wire.TxOut{Value: 0, PkScript: append([]byte(nil), pkScript...)})
	return tx
}

// bip322ToSign builds BIP-322's to_sign transaction spending to_spend,
// without its witness:
//
//	version 0, locktime 0
//	input:  prevout to_spend.txid:0, sequence 0, empty scriptSig
//	output: value 0, scriptPubKey OP_RETURN
func bip322ToSign(toSpend *wire.MsgTx) *wire.MsgTx {
	tx := wire.NewMsgTx(0)
	tx.AddTxIn(&wire.TxIn{
		PreviousOutPoint: wire.OutPoint{Hash: toSpend.TxHash(), Index: 0},
		Sequence:         0,
	})
	tx.AddTxOut(&wire.TxOut{Value: 0, PkScript: []byte{txscript.OP_RETURN}})
	return tx
}

// bip322SigHash returns the digest the signature in to_sign's witness
// commits to: BIP-143 (segwit v0, amount 0) for P2WPKH, BIP-341 (key path,
// amount 0) for P2TR.
func bip322SigHash(msg, pkScript []byte, taproot bool, hashType txscript.SigHashType) ([]byte, error) {
	toSpend := bip322ToSpend(msg, pkScript)
	toSign := bip322ToSign(toSpend)
	fetcher := txscript.NewCannedPrevOutputFetcher(pkScript, 0)
	hashes := txscript.NewTxSigHashes(toSign, fetcher)
	if taproot {
		return txscript.CalcTaprootSignatureHash(hashes, hashType, toSign, 0, fetcher)
	}
	return txscript.CalcWitnessSigHash(pkScript, hashes, hashType, toSign, 0, 0)
}

// signBIP322 makes a BIP-322 simple signature by sk over msg for the
// address of type t, returning the address and the witness stack.
//
// P2TR (BIP-86 key path):
//  1. P = x-only(sk·G); Q = P + H_TapTweak(P)·G; address = bech32m(v1, Q);
//  2. digest = BIP-341 sighash of to_sign, SIGHASH_DEFAULT;
//  3. witness = [ BIP-340 signature (64 bytes) by the tweaked key ].
//
// P2WPKH:
//  1. K = compressed(sk·G) (33 bytes); address = bech32(v0, HASH160(K));
//  2. digest = BIP-143 sighash of to_sign, SIGHASH_ALL;
//  3. witness = [ DER(low-s ECDSA signature) || 0x01, K ].
func signBIP322(sk *btcec.PrivateKey, msg []byte, t AddressType, net *chaincfg.Params) (string, [][]byte, error) {
	switch t {
	case P2TR:
		q := txscript.ComputeTaprootKeyNoScript(sk.PubKey())
		addr, err := address.NewAddressTaproot(schnorr.SerializePubKey(q), net)
		if err != nil {
			return "", nil, fmt.Errorf("%w: %v", ErrOption, err)
		}
		pkScript, _ := txscript.PayToAddrScript(addr)
		digest, err := bip322SigHash(msg, pkScript, true, txscript.SigHashDefault)
		if err != nil {
			return "", nil, err
		}
		tweaked := txscript.TweakTaprootPrivKey(*sk, nil)
		sig, err := schnorr.Sign(tweaked, digest)
		tweaked.Zero()
		if err != nil {
			return "", nil, err
		}
		return addr.EncodeAddress(), [][]byte{sig.Serialize()}, nil
	case P2WPKH:
		k := sk.PubKey().SerializeCompressed()
		addr, err := address.NewAddressWitnessPubKeyHash(address.Hash160(k), net)
		if err != nil {
			return "", nil, fmt.Errorf("%w: %v", ErrOption, err)
		}
		pkScript, _ := txscript.PayToAddrScript(addr)
		digest, err := bip322SigHash(msg, pkScript, false, txscript.SigHashAll)
		if err != nil {
			return "", nil, err
		}
		der := ecdsa.Sign(sk, digest).Serialize()
		return addr.EncodeAddress(), [][]byte{append(der, byte(txscript.SigHashAll)), k}, nil
	default:
		return "", nil, fmt.Errorf("%w: BIP-322 address type %v (want p2tr or p2wpkh)", ErrOption, t)
	}
}

// bip322Address is a decoded Bitcoin address of a kind a PoP may use.
type bip322Address struct {
	taproot  bool
	program  []byte // 32-byte output key (P2TR) or 20-byte key hash (P2WPKH)
	pkScript []byte
}

// parseBIP322Address decodes addr for net and keeps only P2TR and P2WPKH.
func parseBIP322Address(addr string, net *chaincfg.Params) (bip322Address, error) {
	a, err := address.DecodeAddress(addr, net)
	if err != nil {
		return bip322Address{}, fmt.Errorf("%w: Bitcoin address %q for %s: %v", ErrInvalidAddress, addr, net.Name, err)
	}
	if !a.IsForNet(net) {
		return bip322Address{}, fmt.Errorf("%w: Bitcoin address %q is not for %s", ErrInvalidAddress, addr, net.Name)
	}
	pkScript, err := txscript.PayToAddrScript(a)
	if err != nil {
		return bip322Address{}, fmt.Errorf("%w: Bitcoin address %q: %v", ErrUnsupportedAddress, addr, err)
	}
	switch a := a.(type) {
	case *address.AddressTaproot:
		return bip322Address{taproot: true, program: a.WitnessProgram(), pkScript: pkScript}, nil
	case *address.AddressWitnessPubKeyHash:
		return bip322Address{program: a.WitnessProgram(), pkScript: pkScript}, nil
	default:
		return bip322Address{}, fmt.Errorf("%w: Bitcoin address %q is a %T; a BIP-322 proof of possession takes only P2TR (BIP-86 key path) or P2WPKH", ErrUnsupportedAddress, addr, a)
	}
}

// checkBIP322Shape checks the witness has the shape Babylon accepts for the
// address kind and returns the key it names (P2WPKH) or nil (P2TR):
//
//	P2TR:   exactly one item, 64 bytes, or 65 bytes ending in 0x01;
//	P2WPKH: exactly two items, DER signature || 0x01 (9 to 73 bytes) and
//	        a 33-byte compressed key whose HASH160 is the address program.
func checkBIP322Shape(a bip322Address, witness [][]byte) error {
	if a.taproot {
		if len(witness) != 1 {
			return fmt.Errorf("%w: a P2TR key-path BIP-322 witness has 1 item, not %d", ErrMalformed, len(witness))
		}
		switch sig := witness[0]; {
		case len(sig) == 64:
		case len(sig) == 65 && sig[64] == byte(txscript.SigHashAll):
		case len(sig) == 65:
			return fmt.Errorf("%w: P2TR BIP-322 signature has sighash 0x%02x; only 0x01 (or none) is accepted", ErrMalformed, sig[64])
		default:
			return fmt.Errorf("%w: P2TR BIP-322 signature is %d bytes, want 64 (or 65 with sighash 0x01)", ErrMalformed, len(sig))
		}
		return nil
	}
	if len(witness) != 2 {
		return fmt.Errorf("%w: a P2WPKH BIP-322 witness has 2 items, not %d", ErrMalformed, len(witness))
	}
	sig, key := witness[0], witness[1]
	if len(sig) < 9 || len(sig) > 73 {
		return fmt.Errorf("%w: P2WPKH BIP-322 signature is %d bytes, want 9 to 73", ErrMalformed, len(sig))
	}
	if sig[len(sig)-1] != byte(txscript.SigHashAll) {
		return fmt.Errorf("%w: P2WPKH BIP-322 signature has sighash 0x%02x; only 0x01 is accepted", ErrMalformed, sig[len(sig)-1])
	}
	if len(key) == 65 {
		return fmt.Errorf("%w: the P2WPKH witness key is 65 bytes; Babylon takes only a 33-byte compressed key", ErrUncompressedKey)
	}
	if len(key) != 33 || (key[0] != 2 && key[0] != 3) {
		return fmt.Errorf("%w: the P2WPKH witness key is not a 33-byte compressed key", ErrMalformed)
	}
	if !bytes.Equal(address.Hash160(key), a.program) {
		return fmt.Errorf("%w: the P2WPKH witness key does not hash to the address", ErrBadSignature)
	}
	return nil
}

// verifyBIP322Simple checks a BIP-322 simple signature (witness) over msg
// for the address a, whose witness shape checkBIP322Shape accepted:
//
//	P2TR:   digest = BIP-341 sighash of to_sign (SIGHASH_DEFAULT for 64
//	        bytes, SIGHASH_ALL for 65); BIP-340 verify against the output key;
//	P2WPKH: digest = BIP-143 sighash of to_sign, SIGHASH_ALL; strict DER,
//	        s at most n/2, ECDSA verify against the witness key.
func verifyBIP322Simple(a bip322Address, msg []byte, witness [][]byte) error {
	if a.taproot {
		sig := witness[0]
		hashType := txscript.SigHashDefault
		if len(sig) == 65 {
			hashType = txscript.SigHashAll
		}
		q, err := schnorr.ParsePubKey(a.program)
		if err != nil {
			return fmt.Errorf("%w: the P2TR output key is not on the curve", ErrBadSignature)
		}
		s, err := schnorr.ParseSignature(sig[:64])
		if err != nil {
			return fmt.Errorf("%w: P2TR BIP-322 signature: %v", ErrMalformed, err)
		}
		digest, err := bip322SigHash(msg, a.pkScript, true, hashType)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		if !s.Verify(digest, q) {
			return fmt.Errorf("%w: BIP-322 P2TR signature", ErrBadSignature)
		}
		return nil
	}
	der := witness[0][:len(witness[0])-1]
	s, err := ecdsa.ParseDERSignature(der)
	if err != nil {
		return fmt.Errorf("%w: P2WPKH BIP-322 signature is not strict DER: %v", ErrMalformed, err)
	}
	if err := ecdsa.VerifyLowS(der); err != nil {
		return fmt.Errorf("%w: P2WPKH BIP-322 signature", ErrHighS)
	}
	k, err := btcec.ParsePubKey(witness[1])
	if err != nil {
		return fmt.Errorf("%w: P2WPKH witness key: %v", ErrMalformed, err)
	}
	digest, err := bip322SigHash(msg, a.pkScript, false, txscript.SigHashAll)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if !s.Verify(digest, k) {
		return fmt.Errorf("%w: BIP-322 P2WPKH signature", ErrBadSignature)
	}
	return nil
}

// serializeWitness encodes a witness stack as BIP-322 simple signatures
// carry it: CompactSize(item count), then per item CompactSize(len) || item.
func serializeWitness(witness [][]byte) []byte {
	var buf bytes.Buffer
	// Writing to a bytes.Buffer does not fail.
	_ = wire.WriteVarInt(&buf, 0, uint64(len(witness)))
	for _, item := range witness {
		_ = wire.WriteVarBytes(&buf, 0, item)
	}
	return buf.Bytes()
}

// parseWitness decodes serializeWitness's encoding, refusing more than
// maxWitnessItems items, non-canonical CompactSize and trailing bytes.
func parseWitness(b []byte) ([][]byte, error) {
	r := bytes.NewReader(b)
	n, err := wire.ReadVarInt(r, 0)
	if err != nil {
		return nil, fmt.Errorf("%w: BIP-322 witness item count: %v", ErrMalformed, err)
	}
	if n > maxWitnessItems {
		return nil, fmt.Errorf("%w: BIP-322 witness has %d items, at most %d accepted", ErrMalformed, n, maxWitnessItems)
	}
	witness := make([][]byte, n)
	for i := range witness {
		l, err := wire.ReadVarInt(r, 0)
		if err != nil {
			return nil, fmt.Errorf("%w: BIP-322 witness item %d length: %v", ErrMalformed, i, err)
		}
		if l > uint64(r.Len()) {
			return nil, fmt.Errorf("%w: BIP-322 witness item %d is %d bytes but only %d remain", ErrMalformed, i, l, r.Len())
		}
		witness[i] = make([]byte, l)
		if _, err := io.ReadFull(r, witness[i]); err != nil {
			return nil, fmt.Errorf("%w: BIP-322 witness item %d: %v", ErrMalformed, i, err)
		}
	}
	if r.Len() != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the BIP-322 witness", ErrMalformed, r.Len())
	}
	return witness, nil
}
