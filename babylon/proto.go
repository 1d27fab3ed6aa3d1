package babylon

import (
	"bytes"
	"fmt"

	"github.com/btcsuite/btcd/chainhash/v2"
	"google.golang.org/protobuf/encoding/protowire"
)

// The protobuf encoding of the messages Babylon takes from the Bitcoin side
// (docs/spec.md §10.1). Field numbers and types are those of babylon v4
// (babylonlabs-io/babylon at a3b6540f3d79930d13ea13c8930ab37d4c9437d9):
//
//	proto/babylon/btccheckpoint/v1/btccheckpoint.proto
//	  message TransactionKey { uint32 index = 1; bytes hash = 2; }
//	proto/babylon/btcstaking/v1/btcstaking.proto
//	  message InclusionProof { TransactionKey key = 1; bytes proof = 2; }
//	proto/babylon/btcstaking/v1/pop.proto
//	  message ProofOfPossessionBTC { BTCSigType btc_sig_type = 1; bytes btc_sig = 2; }
//	proto/babylon/btcstaking/v1/tx.proto
//	  MsgCreateBTCDelegation, MsgAddBTCDelegationInclusionProof, MsgBTCUndelegate,
//	  MsgBtcStakeExpand
//
// Encoding follows proto3 as gogoproto emits it: fields in ascending
// number, a scalar or bytes pbField omitted when zero or empty, each element
// of a repeated pbField as its own record, embedded messages
// length-delimited. Decoding is strict: an unknown pbField, a singular pbField
// twice, a wrong wire type or a value of the wrong size is ErrInvalidMessage.

// Field numbers (see the comment above for their source).
const (
	fTxKeyIndex = 1 // TransactionKey.index, uint32
	fTxKeyHash  = 2 // TransactionKey.hash, bytes (32, internal byte order)

	fProofKey   = 1 // InclusionProof.key, TransactionKey
	fProofProof = 2 // InclusionProof.proof, bytes

	fPopSigType = 1 // ProofOfPossessionBTC.btc_sig_type, enum
	fPopSig     = 2 // ProofOfPossessionBTC.btc_sig, bytes

	fCreateStakerAddr          = 1  // string
	fCreatePop                 = 2  // ProofOfPossessionBTC
	fCreateBtcPk               = 3  // bytes (BIP340PubKey, 32)
	fCreateFpBtcPkList         = 4  // repeated bytes (BIP340PubKey, 32)
	fCreateStakingTime         = 5  // uint32
	fCreateStakingValue        = 6  // int64
	fCreateStakingTx           = 7  // bytes
	fCreateInclusionProof      = 8  // InclusionProof
	fCreateSlashingTx          = 9  // bytes (BTCSlashingTx)
	fCreateSlashingSig         = 10 // bytes (BIP340Signature, 64)
	fCreateUnbondingTime       = 11 // uint32
	fCreateUnbondingTx         = 12 // bytes
	fCreateUnbondingValue      = 13 // int64
	fCreateUnbondingSlashingTx = 14 // bytes (BTCSlashingTx)
	fCreateUnbondingSlashSig   = 15 // bytes (BIP340Signature, 64)

	fAddProofSigner        = 1 // string
	fAddProofStakingTxHash = 2 // string (hex txid, display order)
	fAddProofProof         = 3 // InclusionProof

	fUndelSigner        = 1 // string
	fUndelStakingTxHash = 2 // string (hex txid, display order)
	fUndelSpendingTx    = 3 // bytes
	fUndelSpendingProof = 4 // InclusionProof
	fUndelFundingTxs    = 5 // repeated bytes

	// MsgBtcStakeExpand: MsgCreateBTCDelegation's fields without the
	// inclusion proof, renumbered from 8, then two of its own.
	fExpStakerAddr          = 1  // string
	fExpPop                 = 2  // ProofOfPossessionBTC
	fExpBtcPk               = 3  // bytes (BIP340PubKey, 32)
	fExpFpBtcPkList         = 4  // repeated bytes (BIP340PubKey, 32)
	fExpStakingTime         = 5  // uint32
	fExpStakingValue        = 6  // int64
	fExpStakingTx           = 7  // bytes: the extension transaction
	fExpSlashingTx          = 8  // bytes (BTCSlashingTx)
	fExpSlashingSig         = 9  // bytes (BIP340Signature, 64)
	fExpUnbondingTime       = 10 // uint32
	fExpUnbondingTx         = 11 // bytes
	fExpUnbondingValue      = 12 // int64
	fExpUnbondingSlashingTx = 13 // bytes (BTCSlashingTx)
	fExpUnbondingSlashSig   = 14 // bytes (BIP340Signature, 64)
	fExpPrevStakingTxHash   = 15 // string (hex txid, display order)
	fExpFundingTx           = 16 // bytes

	maxMessageFieldCount = 1 << 16
)

// appendBytes appends a length-delimited pbField unless b is empty.
func appendBytes(out []byte, num protowire.Number, b []byte) []byte {
	if len(b) == 0 {
		return out
	}
	out = protowire.AppendTag(out, num, protowire.BytesType)
	return protowire.AppendBytes(out, b)
}

// appendRepeatedBytes appends one record per element, empty ones too.
func appendRepeatedBytes(out []byte, num protowire.Number, list [][]byte) []byte {
	for _, b := range list {
		out = protowire.AppendTag(out, num, protowire.BytesType)
		out = protowire.AppendBytes(out, b)
	}
	return out
}

// appendVarint appends a varint pbField unless v is zero.
func appendVarint(out []byte, num protowire.Number, v uint64) []byte {
	if v == 0 {
		return out
	}
	out = protowire.AppendTag(out, num, protowire.VarintType)
	return protowire.AppendVarint(out, v)
}

// pbField is one decoded record: its number, wire type and value (v for a
// varint, b for length-delimited bytes).
type pbField struct {
	num protowire.Number
	typ protowire.Type
	v   uint64
	b   []byte
}

// fieldSpec says, for a message, the wire type of each known pbField and
// whether it may repeat.
type fieldSpec struct {
	typ      protowire.Type
	repeated bool
}

// parseFields walks b record by record (protowire.ConsumeTag and the
// value's Consume function), refusing unknown fields, wrong wire types and
// repeated singular fields.
func parseFields(what string, b []byte, spec map[protowire.Number]fieldSpec) ([]pbField, error) {
	var out []pbField
	seen := map[protowire.Number]bool{}
	for len(b) > 0 {
		if len(out) >= maxMessageFieldCount {
			return nil, fmt.Errorf("%w: %s: more than %d fields", ErrInvalidMessage, what, maxMessageFieldCount)
		}
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, fmt.Errorf("%w: %s: bad tag: %v", ErrInvalidMessage, what, protowire.ParseError(n))
		}
		b = b[n:]
		s, ok := spec[num]
		if !ok {
			return nil, fmt.Errorf("%w: %s: unknown pbField %d", ErrInvalidMessage, what, num)
		}
		if typ != s.typ {
			return nil, fmt.Errorf("%w: %s: pbField %d has wire type %d, want %d", ErrInvalidMessage, what, num, typ, s.typ)
		}
		if seen[num] && !s.repeated {
			return nil, fmt.Errorf("%w: %s: pbField %d appears twice", ErrInvalidMessage, what, num)
		}
		seen[num] = true
		f := pbField{num: num, typ: typ}
		switch typ {
		case protowire.VarintType:
			f.v, n = protowire.ConsumeVarint(b)
		case protowire.BytesType:
			f.b, n = protowire.ConsumeBytes(b)
		default:
			n = -1
		}
		if n < 0 {
			return nil, fmt.Errorf("%w: %s: pbField %d: bad value: %v", ErrInvalidMessage, what, num, protowire.ParseError(n))
		}
		b = b[n:]
		out = append(out, f)
	}
	return out, nil
}

func uint32Field(what string, f pbField) (uint32, error) {
	if f.v > 0xffffffff {
		return 0, fmt.Errorf("%w: %s: pbField %d: %d does not fit a uint32", ErrInvalidMessage, what, f.num, f.v)
	}
	return uint32(f.v), nil
}

func sizedField(what string, f pbField, size int) ([]byte, error) {
	if len(f.b) != size {
		return nil, fmt.Errorf("%w: %s: pbField %d is %d bytes, want %d", ErrInvalidMessage, what, f.num, len(f.b), size)
	}
	return bytes.Clone(f.b), nil
}

// TransactionKey is the position of a transaction on Bitcoin: its index in
// the block and the block's hash.
type TransactionKey struct {
	Index uint32
	// Block is the block hash; it is encoded in internal byte order (the
	// bytes of chainhash.Hash, the reverse of the hex a node shows).
	Block chainhash.Hash
}

// InclusionProof is Babylon's proof that a transaction is in a block: the
// transaction's position and its Merkle branch.
type InclusionProof struct {
	Key TransactionKey
	// Proof is the Merkle branch from the transaction up to the root: the
	// sibling of each level, bottom first, 32 bytes each in internal byte
	// order, concatenated (Babylon's btccheckpoint format). It excludes
	// the transaction's own id and the root.
	Proof []byte
}

func (k TransactionKey) marshal() []byte {
	var out []byte
	out = appendVarint(out, fTxKeyIndex, uint64(k.Index))
	return appendBytes(out, fTxKeyHash, k.Block[:])
}

// Marshal returns the protobuf encoding of the proof
// (babylon.btcstaking.v1.InclusionProof): the hex of these bytes is
// babylond's inclusion_proof argument.
func (p *InclusionProof) Marshal() []byte {
	var out []byte
	out = appendBytes(out, fProofKey, p.Key.marshal())
	return appendBytes(out, fProofProof, p.Proof)
}

// UnmarshalInclusionProof decodes Marshal's encoding. The key must be
// present with a 32-byte block hash, and the proof a whole number of 32-byte
// hashes.
func UnmarshalInclusionProof(b []byte) (*InclusionProof, error) {
	const what = "InclusionProof"
	fs, err := parseFields(what, b, map[protowire.Number]fieldSpec{
		fProofKey: {typ: protowire.BytesType}, fProofProof: {typ: protowire.BytesType},
	})
	if err != nil {
		return nil, err
	}
	p := &InclusionProof{}
	hasKey := false
	for _, f := range fs {
		switch f.num {
		case fProofKey:
			if p.Key, err = unmarshalTxKey(f.b); err != nil {
				return nil, err
			}
			hasKey = true
		case fProofProof:
			p.Proof = bytes.Clone(f.b)
		}
	}
	if !hasKey {
		return nil, fmt.Errorf("%w: %s: no key", ErrInvalidMessage, what)
	}
	if len(p.Proof)%chainhash.HashSize != 0 {
		return nil, fmt.Errorf("%w: %s: proof of %d bytes is not a list of 32-byte hashes", ErrInvalidMessage, what, len(p.Proof))
	}
	return p, nil
}

func unmarshalTxKey(b []byte) (TransactionKey, error) {
	const what = "TransactionKey"
	fs, err := parseFields(what, b, map[protowire.Number]fieldSpec{
		fTxKeyIndex: {typ: protowire.VarintType}, fTxKeyHash: {typ: protowire.BytesType},
	})
	if err != nil {
		return TransactionKey{}, err
	}
	var k TransactionKey
	hasHash := false
	for _, f := range fs {
		switch f.num {
		case fTxKeyIndex:
			if k.Index, err = uint32Field(what, f); err != nil {
				return TransactionKey{}, err
			}
		case fTxKeyHash:
			h, err := sizedField(what, f, chainhash.HashSize)
			if err != nil {
				return TransactionKey{}, err
			}
			copy(k.Block[:], h)
			hasHash = true
		}
	}
	if !hasHash {
		return TransactionKey{}, fmt.Errorf("%w: %s: no block hash", ErrInvalidMessage, what)
	}
	return k, nil
}

// checkPoP checks that b is a ProofOfPossessionBTC encoding (a signature
// type and a non-empty signature); what the signature proves is package
// pop's business.
func checkPoP(b []byte) error {
	const what = "ProofOfPossessionBTC"
	if len(b) == 0 {
		return fmt.Errorf("%w: %s: empty", ErrInvalidMessage, what)
	}
	fs, err := parseFields(what, b, map[protowire.Number]fieldSpec{
		fPopSigType: {typ: protowire.VarintType}, fPopSig: {typ: protowire.BytesType},
	})
	if err != nil {
		return err
	}
	for _, f := range fs {
		if f.num == fPopSig && len(f.b) > 0 {
			return nil
		}
	}
	return fmt.Errorf("%w: %s: no signature", ErrInvalidMessage, what)
}
