package eots

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
)

// CommitHash returns the hash a finality provider signs to commit to a list
// of public randomness: sha256(BE64(start) || BE64(count) || root)
// (PROTOCOL.md section 7; Babylon's MsgCommitPubRandList.HashToSign).
func CommitHash(start, count uint64, root [HashSize]byte) [32]byte {
	var buf [16 + HashSize]byte
	binary.BigEndian.PutUint64(buf[0:8], start)
	binary.BigEndian.PutUint64(buf[8:16], count)
	copy(buf[16:], root[:])
	return sha256.Sum256(buf[:])
}

// SignCommit signs CommitHash(start, count, root) with BIP-340 (btcec's
// signer, deterministic nonce). The result is the 64-byte signature.
func SignCommit(sk *SecretKey, start, count uint64, root [HashSize]byte) ([64]byte, error) {
	var out [64]byte
	if !sk.valid() {
		return out, fmt.Errorf("%w: missing or zeroed secret key", ErrInvalidKey)
	}
	h := CommitHash(start, count, root)
	priv := sk.PrivKey()
	defer priv.Zero()
	sig, err := schnorr.Sign(priv, h[:], schnorr.FastSign())
	if err != nil {
		return out, fmt.Errorf("%w: signing the commitment: %v", ErrInvalidKey, err)
	}
	copy(out[:], sig.Serialize())
	return out, nil
}

// VerifyCommit checks a 64-byte BIP-340 signature over CommitHash(start,
// count, root) under pk (only x(pk) matters).
func VerifyCommit(pk *btcec.PublicKey, start, count uint64, root [HashSize]byte, sig []byte) error {
	if pk == nil {
		return fmt.Errorf("%w: nil public key", ErrInvalidKey)
	}
	s, err := schnorr.ParseSignature(sig)
	if err != nil {
		return fmt.Errorf("%w: commitment signature is malformed", ErrInvalidSignature)
	}
	h := CommitHash(start, count, root)
	if !s.Verify(h[:], pk) {
		return fmt.Errorf("%w: commitment signature does not verify", ErrInvalidSignature)
	}
	return nil
}

// VoteMessage returns the finality vote message BE64(height) || appHash
// (PROTOCOL.md section 7), which the finality provider signs with Sign.
func VoteMessage(height uint64, appHash [32]byte) []byte {
	out := make([]byte, 8, 8+32)
	binary.BigEndian.PutUint64(out, height)
	return append(out, appHash[:]...)
}
