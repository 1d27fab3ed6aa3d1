package pop

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/txscript/v2"
)

// Kind is the signature kind of a proof of possession. Its values are
// Babylon's BTCSigType enum (proto/babylon/btcstaking/v1/pop.proto).
type Kind int32

const (
	// BIP340 is a BIP-340 Schnorr signature by the staker key over SHA256
	// of the raw Babylon address bytes.
	BIP340 Kind = 0
	// BIP322 is a BIP-322 simple signature over the bech32 text of the
	// Babylon address, by a P2TR (BIP-86) or P2WPKH address of the staker key.
	BIP322 Kind = 1
	// ECDSA is a Bitcoin signed-message compact signature over the bech32
	// text of the Babylon address.
	ECDSA Kind = 2
)

// String returns "BIP340", "BIP322" or "ECDSA", Babylon's enum names.
func (k Kind) String() string {
	switch k {
	case BIP340:
		return "BIP340"
	case BIP322:
		return "BIP322"
	case ECDSA:
		return "ECDSA"
	default:
		return fmt.Sprintf("Kind(%d)", int32(k))
	}
}

// ParseKind reads a kind name, case-insensitively: bip340, bip322, ecdsa.
func ParseKind(s string) (Kind, error) {
	switch strings.ToLower(s) {
	case "bip340":
		return BIP340, nil
	case "bip322":
		return BIP322, nil
	case "ecdsa":
		return ECDSA, nil
	default:
		return 0, fmt.Errorf("%w: proof of possession kind %q (want bip340, bip322 or ecdsa)", ErrOption, s)
	}
}

// Proof is a parsed or created proof of possession: Babylon's
// ProofOfPossessionBTC. It is immutable; accessors return copies.
type Proof struct {
	kind Kind
	sig  []byte // btc_sig exactly as encoded

	// BIP-322 only: the parts of the BIP322Sig message in sig.
	bip322Addr    string
	bip322Witness [][]byte
}

// Option adjusts Create.
type Option func(*options)

type options struct {
	net      *chaincfg.Params
	addrType AddressType
	set      bool
}

// WithBIP322 sets, for the BIP322 kind (where it is required), the Bitcoin
// network the signing address is encoded for and its type (P2TR or P2WPKH).
func WithBIP322(net *chaincfg.Params, t AddressType) Option {
	return func(o *options) { o.net, o.addrType, o.set = net, t, true }
}

// Create makes a proof of possession of kind by stakerKey for the Babylon
// account babylonAddr.
//
//	BIP340: sig = BIP-340 Schnorr signature over SHA256(raw address bytes);
//	BIP322: sig = BIP322Sig{address, witness} of a BIP-322 simple
//	        signature over the ASCII bech32 address (see signBIP322);
//	ECDSA:  sig = 65-byte compact signature (header 31+recid for a
//	        compressed key, r, low s) over the signed-message digest of the
//	        ASCII bech32 address.
func Create(kind Kind, stakerKey *btcec.PrivateKey, babylonAddr string, opts ...Option) (*Proof, error) {
	if stakerKey == nil {
		return nil, fmt.Errorf("%w: no staker key", ErrOption)
	}
	addr, err := ParseBabylonAddress(babylonAddr)
	if err != nil {
		return nil, err
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if o.set && kind != BIP322 {
		return nil, fmt.Errorf("%w: WithBIP322 given for a %v proof", ErrOption, kind)
	}
	switch kind {
	case BIP340:
		m := bip340Message(addr)
		sig, err := schnorr.Sign(stakerKey, m[:])
		if err != nil {
			return nil, fmt.Errorf("BIP-340 signing: %w", err)
		}
		return &Proof{kind: BIP340, sig: sig.Serialize()}, nil
	case BIP322:
		if !o.set || o.net == nil {
			return nil, fmt.Errorf("%w: a BIP322 proof needs WithBIP322(network, address type)", ErrOption)
		}
		btcAddr, witness, err := signBIP322(stakerKey, bip322Message(addr), o.addrType, o.net)
		if err != nil {
			return nil, err
		}
		return newBIP322Proof(btcAddr, witness), nil
	case ECDSA:
		h := signedMessageHash(addr.String())
		sig := ecdsa.SignCompact(stakerKey, h[:], true)
		return &Proof{kind: ECDSA, sig: sig}, nil
	default:
		return nil, fmt.Errorf("%w: proof of possession kind %v", ErrOption, kind)
	}
}

func newBIP322Proof(btcAddr string, witness [][]byte) *Proof {
	return &Proof{
		kind:          BIP322,
		sig:           marshalBIP322Sig(btcAddr, serializeWitness(witness)),
		bip322Addr:    btcAddr,
		bip322Witness: witness,
	}
}

// Kind returns the signature kind (btc_sig_type).
func (p *Proof) Kind() Kind { return p.kind }

// BTCSig returns a copy of btc_sig: the 64-byte BIP-340 signature, the
// 65-byte ECDSA compact signature, or the encoded BIP322Sig message.
func (p *Proof) BTCSig() []byte { return append([]byte(nil), p.sig...) }

// BIP322Address returns the Bitcoin address of a BIP322 proof ("" otherwise).
func (p *Proof) BIP322Address() string { return p.bip322Addr }

// BIP322Witness returns a copy of the witness stack of a BIP322 proof.
func (p *Proof) BIP322Witness() [][]byte {
	if p.kind != BIP322 {
		return nil
	}
	out := make([][]byte, len(p.bip322Witness))
	for i, w := range p.bip322Witness {
		out[i] = append([]byte(nil), w...)
	}
	return out
}

// Verify checks the proof as Babylon (v4) does for the staker key and the
// Babylon account babylonAddr; net is the Bitcoin network of a BIP-322
// signing address (unused by the other kinds).
//
//	BIP340: BIP-340 verify(x-only staker key, SHA256(raw address), sig);
//	BIP322: decode the address for net, keep P2TR and P2WPKH only, check
//	        the witness shape, check the address is the staker key's (P2TR:
//	        BIP-86 output of the x-only key; P2WPKH: witness key's x equals
//	        the staker key's x), then verify the BIP-322 simple signature
//	        over the ASCII address;
//	ECDSA:  require 65 bytes and s <= n/2, recover the key from the
//	        signed-message digest of the ASCII address and compare x-only.
//
// A signature that fails over today's message but verifies over the
// late-2024 form is refused with ErrLegacyMessage.
func (p *Proof) Verify(stakerPK *btcec.PublicKey, babylonAddr string, net *chaincfg.Params) error {
	if stakerPK == nil {
		return fmt.Errorf("%w: no staker key", ErrOption)
	}
	addr, err := ParseBabylonAddress(babylonAddr)
	if err != nil {
		return err
	}
	xonly := schnorr.SerializePubKey(stakerPK)
	switch p.kind {
	case BIP340:
		return verifyBIP340(p.sig, xonly, addr)
	case BIP322:
		if net == nil {
			return fmt.Errorf("%w: verifying a BIP322 proof needs the Bitcoin network", ErrOption)
		}
		return verifyBIP322PoP(p.bip322Addr, p.bip322Witness, xonly, addr, net)
	case ECDSA:
		return verifyECDSA(p.sig, xonly, addr)
	default:
		return fmt.Errorf("%w: signature type %d", ErrMalformed, int32(p.kind))
	}
}

func verifyBIP340(sig, xonly []byte, addr BabylonAddress) error {
	if len(sig) != 64 {
		return fmt.Errorf("%w: BIP-340 signature is %d bytes, want 64", ErrMalformed, len(sig))
	}
	s, err := schnorr.ParseSignature(sig)
	if err != nil {
		return fmt.Errorf("%w: BIP-340 signature: %v", ErrMalformed, err)
	}
	pk, err := schnorr.ParsePubKey(xonly)
	if err != nil {
		return fmt.Errorf("%w: staker key: %v", ErrOption, err)
	}
	m := bip340Message(addr)
	if !s.Verify(m[:], pk) {
		return fmt.Errorf("%w: BIP-340 signature over SHA256 of %s", ErrBadSignature, addr)
	}
	return nil
}

func verifyBIP322PoP(btcAddr string, witness [][]byte, xonly []byte, addr BabylonAddress, net *chaincfg.Params) error {
	a, err := parseBIP322Address(btcAddr, net)
	if err != nil {
		return err
	}
	if err := checkBIP322Shape(a, witness); err != nil {
		return err
	}
	// The address must be the staker key's.
	if a.taproot {
		pk, err := schnorr.ParsePubKey(xonly)
		if err != nil {
			return fmt.Errorf("%w: staker key: %v", ErrOption, err)
		}
		q := schnorr.SerializePubKey(txscript.ComputeTaprootKeyNoScript(pk))
		if !bytes.Equal(q, a.program) {
			return fmt.Errorf("%w: %s is not the BIP-86 key-path address of the staker key", ErrAddressNotStakerKey, btcAddr)
		}
	} else if !bytes.Equal(witness[1][1:], xonly) {
		return fmt.Errorf("%w: the key of %s has another x coordinate than the staker key", ErrAddressNotStakerKey, btcAddr)
	}
	err = verifyBIP322Simple(a, bip322Message(addr), witness)
	if err == nil || !errors.Is(err, ErrBadSignature) {
		return err
	}
	if verifyBIP322Simple(a, bip322LegacyMessage(addr), witness) == nil {
		return fmt.Errorf("%w: BIP-322 over SHA256 of the address bytes instead of the text %s", ErrLegacyMessage, addr)
	}
	return fmt.Errorf("%w: BIP-322 signature over %s", ErrBadSignature, addr)
}

func verifyECDSA(sig, xonly []byte, addr BabylonAddress) error {
	if err := checkCompactSig(sig); err != nil {
		return err
	}
	if recoversTo(sig, signedMessageHash(addr.String()), xonly) {
		return nil
	}
	if recoversTo(sig, signedMessageHash(ecdsaLegacyMessage(addr)), xonly) {
		return fmt.Errorf("%w: ECDSA over the hex of the address bytes instead of the text %s", ErrLegacyMessage, addr)
	}
	return fmt.Errorf("%w: ECDSA signature over %s does not recover to the staker key", ErrBadSignature, addr)
}

// checkCompactSig checks the form of a compact signature: 65 bytes,
// header 27 to 34, s below n and not above n/2.
func checkCompactSig(sig []byte) error {
	if len(sig) != 65 {
		return fmt.Errorf("%w: ECDSA compact signature is %d bytes, want 65", ErrMalformed, len(sig))
	}
	if sig[0] < 27 || sig[0] > 34 {
		return fmt.Errorf("%w: ECDSA compact signature header byte %d (want 27 to 34)", ErrMalformed, sig[0])
	}
	var s btcec.ModNScalar
	if overflow := s.SetByteSlice(sig[33:65]); overflow {
		return fmt.Errorf("%w: ECDSA s is not below the group order", ErrMalformed)
	}
	if s.IsOverHalfOrder() {
		return fmt.Errorf("%w: ECDSA compact signature", ErrHighS)
	}
	return nil
}

// recoversTo reports whether the compact signature recovers, for digest,
// to a key whose x coordinate is xonly. The compressed flag in the header
// is ignored, as Babylon ignores it.
func recoversTo(sig []byte, digest [32]byte, xonly []byte) bool {
	pk, _, err := ecdsa.RecoverCompact(sig, digest[:])
	if err != nil {
		return false
	}
	return bytes.Equal(schnorr.SerializePubKey(pk), xonly)
}
