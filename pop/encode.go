package pop

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
)

// MaxEncodedSize bounds the bytes Parse reads. A P2WPKH BIP-322 proof,
// the largest, is under 200 bytes.
const MaxEncodedSize = 4096

// Protobuf field numbers (proto/babylon/btcstaking/v1/pop.proto).
const (
	fieldBTCSigType    protowire.Number = 1 // ProofOfPossessionBTC.btc_sig_type (enum)
	fieldBTCSig        protowire.Number = 2 // ProofOfPossessionBTC.btc_sig (bytes)
	fieldBIP322Address protowire.Number = 1 // BIP322Sig.address (string)
	fieldBIP322Sig     protowire.Number = 2 // BIP322Sig.sig (bytes)
)

// Marshal returns the ProofOfPossessionBTC protobuf bytes, as gogoproto
// writes them: btc_sig_type (field 1, varint) only when not BIP340 (0, the
// proto3 default), then btc_sig (field 2, length-delimited).
func (p *Proof) Marshal() []byte {
	var b []byte
	if p.kind != BIP340 {
		b = protowire.AppendTag(b, fieldBTCSigType, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(p.kind))
	}
	b = protowire.AppendTag(b, fieldBTCSig, protowire.BytesType)
	b = protowire.AppendBytes(b, p.sig)
	return b
}

// Hex returns Marshal as lower-case hex: what babylond takes as pop_hex.
func (p *Proof) Hex() string { return hex.EncodeToString(p.Marshal()) }

// marshalBIP322Sig encodes BIP322Sig{address = 1, sig = 2}.
func marshalBIP322Sig(addr string, sig []byte) []byte {
	var b []byte
	b = protowire.AppendTag(b, fieldBIP322Address, protowire.BytesType)
	b = protowire.AppendString(b, addr)
	b = protowire.AppendTag(b, fieldBIP322Sig, protowire.BytesType)
	b = protowire.AppendBytes(b, sig)
	return b
}

// ParseHex parses the hex form (pop_hex).
func ParseHex(s string) (*Proof, error) {
	if len(s) > 2*MaxEncodedSize {
		return nil, fmt.Errorf("%w: %d hex characters, at most %d accepted", ErrMalformed, len(s), 2*MaxEncodedSize)
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: not hex: %v", ErrMalformed, err)
	}
	return Parse(b)
}

// Parse decodes ProofOfPossessionBTC bytes. It accepts btc_sig_type present
// or absent (absent is BIP340), and refuses unknown or repeated fields, an
// unknown signature type, an empty btc_sig, a BIP-340 signature that is not
// 64 bytes, an ECDSA signature that is not 65 bytes, and a BIP322Sig that
// does not parse (its sig must be a witness stack with nothing after it).
func Parse(b []byte) (*Proof, error) {
	if len(b) > MaxEncodedSize {
		return nil, fmt.Errorf("%w: %d bytes, at most %d accepted", ErrMalformed, len(b), MaxEncodedSize)
	}
	var (
		kind            Kind
		sig             []byte
		seenKind, seenS bool
	)
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, fmt.Errorf("%w: field tag: %v", ErrMalformed, protowire.ParseError(n))
		}
		b = b[n:]
		switch {
		case num == fieldBTCSigType && typ == protowire.VarintType:
			if seenKind {
				return nil, fmt.Errorf("%w: btc_sig_type given twice", ErrMalformed)
			}
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return nil, fmt.Errorf("%w: btc_sig_type: %v", ErrMalformed, protowire.ParseError(n))
			}
			b = b[n:]
			if v > uint64(ECDSA) {
				return nil, fmt.Errorf("%w: btc_sig_type %d is not BIP340 (0), BIP322 (1) or ECDSA (2)", ErrMalformed, v)
			}
			kind, seenKind = Kind(v), true
		case num == fieldBTCSig && typ == protowire.BytesType:
			if seenS {
				return nil, fmt.Errorf("%w: btc_sig given twice", ErrMalformed)
			}
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return nil, fmt.Errorf("%w: btc_sig: %v", ErrMalformed, protowire.ParseError(n))
			}
			b = b[n:]
			sig, seenS = v, true
		default:
			return nil, fmt.Errorf("%w: unexpected field %d (wire type %d) in ProofOfPossessionBTC", ErrMalformed, num, typ)
		}
	}
	return New(kind, sig)
}

// New makes a proof from its two fields: the kind and btc_sig exactly as
// it goes into field 2 (for BIP322 the encoded BIP322Sig). It checks what
// Parse checks; it does not verify the signature.
func New(kind Kind, btcSig []byte) (*Proof, error) {
	sig := append([]byte(nil), btcSig...)
	if len(sig) == 0 {
		return nil, fmt.Errorf("%w: empty btc_sig", ErrMalformed)
	}
	switch kind {
	case BIP340:
		if len(sig) != 64 {
			return nil, fmt.Errorf("%w: BIP-340 btc_sig is %d bytes, want 64", ErrMalformed, len(sig))
		}
	case ECDSA:
		if len(sig) != 65 {
			return nil, fmt.Errorf("%w: ECDSA btc_sig is %d bytes, want 65", ErrMalformed, len(sig))
		}
	case BIP322:
		addr, witness, err := parseBIP322Sig(sig)
		if err != nil {
			return nil, err
		}
		return &Proof{kind: BIP322, sig: sig, bip322Addr: addr, bip322Witness: witness}, nil
	default:
		return nil, fmt.Errorf("%w: btc_sig_type %d is not BIP340 (0), BIP322 (1) or ECDSA (2)", ErrMalformed, int32(kind))
	}
	return &Proof{kind: kind, sig: sig}, nil
}

// NewBIP322 makes a BIP322 proof from a signature a wallet made: the
// Bitcoin address it signed with and the BIP-322 simple signature, the
// serialized witness stack (base64-decoded, without a "smp" prefix).
func NewBIP322(btcAddress string, witness []byte) (*Proof, error) {
	if len(witness) > MaxEncodedSize {
		return nil, fmt.Errorf("%w: BIP-322 signature is %d bytes, at most %d accepted", ErrMalformed, len(witness), MaxEncodedSize)
	}
	return New(BIP322, marshalBIP322Sig(btcAddress, witness))
}

// parseBIP322Sig decodes BIP322Sig{address = 1, sig = 2}; both are required.
func parseBIP322Sig(b []byte) (string, [][]byte, error) {
	var (
		addr              string
		sig               []byte
		seenAddr, seenSig bool
	)
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return "", nil, fmt.Errorf("%w: BIP322Sig field tag: %v", ErrMalformed, protowire.ParseError(n))
		}
		b = b[n:]
		if typ != protowire.BytesType || (num != fieldBIP322Address && num != fieldBIP322Sig) {
			return "", nil, fmt.Errorf("%w: unexpected field %d (wire type %d) in BIP322Sig", ErrMalformed, num, typ)
		}
		v, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return "", nil, fmt.Errorf("%w: BIP322Sig field %d: %v", ErrMalformed, num, protowire.ParseError(n))
		}
		b = b[n:]
		if num == fieldBIP322Address {
			if seenAddr {
				return "", nil, fmt.Errorf("%w: BIP322Sig.address given twice", ErrMalformed)
			}
			if !utf8.Valid(v) {
				return "", nil, fmt.Errorf("%w: BIP322Sig.address is not UTF-8", ErrMalformed)
			}
			addr, seenAddr = string(v), true
		} else {
			if seenSig {
				return "", nil, fmt.Errorf("%w: BIP322Sig.sig given twice", ErrMalformed)
			}
			sig, seenSig = v, true
		}
	}
	if addr == "" {
		return "", nil, fmt.Errorf("%w: BIP322Sig.address is empty", ErrMalformed)
	}
	if len(sig) == 0 {
		return "", nil, fmt.Errorf("%w: BIP322Sig.sig is empty", ErrMalformed)
	}
	witness, err := parseWitness(sig)
	if err != nil {
		return "", nil, err
	}
	return addr, witness, nil
}

// JSON is the JSON rendering of a proof: every byte string as lower-case hex.
type JSON struct {
	// Type is Babylon's enum name: "BIP340", "BIP322" or "ECDSA".
	Type string `json:"btc_sig_type"`
	// TypeValue is the enum number written in field 1.
	TypeValue int32 `json:"btc_sig_type_value"`
	// BTCSig is field 2 (for BIP322 the encoded BIP322Sig).
	BTCSig string `json:"btc_sig"`
	// BIP322 holds the parts of a BIP322Sig (BIP322 only).
	BIP322 *BIP322JSON `json:"bip322_sig,omitempty"`
	// PopHex is the whole message, what babylond takes as pop_hex.
	PopHex string `json:"pop_hex"`
}

// BIP322JSON renders a BIP322Sig.
type BIP322JSON struct {
	Address string   `json:"address"`
	Sig     string   `json:"sig"`
	Witness []string `json:"witness"`
}

// JSON returns the JSON rendering.
func (p *Proof) JSON() JSON {
	j := JSON{Type: p.kind.String(), TypeValue: int32(p.kind), BTCSig: hex.EncodeToString(p.sig), PopHex: p.Hex()}
	if p.kind == BIP322 {
		b := &BIP322JSON{Address: p.bip322Addr, Sig: hex.EncodeToString(serializeWitness(p.bip322Witness)), Witness: []string{}}
		for _, w := range p.bip322Witness {
			b.Witness = append(b.Witness, hex.EncodeToString(w))
		}
		j.BIP322 = b
	}
	return j
}

// MarshalJSON renders p as its JSON.
func (p *Proof) MarshalJSON() ([]byte, error) { return json.Marshal(p.JSON()) }
