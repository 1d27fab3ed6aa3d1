package eots

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"

	"github.com/btcstake/btcstake/internal/secp"
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
)

// Babylon v3 prefixes what finality providers sign with a signing context
// ("context separator signing"): the lowercase hex of
// sha256("btcstaking/0/{operation}/{chainID}/{address}"), used as raw ASCII
// bytes, where address is the verifying module's or contract's address
// (docs/spec.md §7.7). An empty context gives the unprefixed form; the
// *WithContext functions give the prefixed one.
const (
	// ContextFinalityVote is the operation tag of finality votes.
	ContextFinalityVote = "fp_fin_vote"
	// ContextRandCommit is the operation tag of randomness commitments.
	ContextRandCommit = "fp_rand_commit"
)

// SigningContext returns hex(sha256("btcstaking/0/" + operation + "/" +
// chainID + "/" + address)).
func SigningContext(operation, chainID, address string) string {
	h := sha256.Sum256([]byte("btcstaking/0/" + operation + "/" + chainID + "/" + address))
	return hex.EncodeToString(h[:])
}

// CommitHash returns the hash a finality provider signs to commit to a list
// of public randomness: sha256(BE64(start) || BE64(count) || root)
// (docs/spec.md §7; Babylon's MsgCommitPubRandList.HashToSign).
func CommitHash(start, count uint64, root [HashSize]byte) [32]byte {
	return CommitHashWithContext("", start, count, root)
}

// CommitHashWithContext returns sha256(context || BE64(start) ||
// BE64(count) || root), Babylon v3's form with a signing context.
func CommitHashWithContext(context string, start, count uint64, root [HashSize]byte) [32]byte {
	h := sha256.New()
	h.Write([]byte(context))
	var buf [16 + HashSize]byte
	binary.BigEndian.PutUint64(buf[0:8], start)
	binary.BigEndian.PutUint64(buf[8:16], count)
	copy(buf[16:], root[:])
	h.Write(buf[:])
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// SignCommit signs CommitHash(start, count, root) with BIP-340 (btcec's
// signer, deterministic nonce) and verifies the result (ErrSigningFault if it
// does not verify). The result is the 64-byte signature.
func SignCommit(sk *SecretKey, start, count uint64, root [HashSize]byte) ([64]byte, error) {
	return SignCommitWithContext(sk, "", start, count, root)
}

// SignCommitWithContext signs CommitHashWithContext(context, start, count,
// root), verifying the result as SignCommit does.
func SignCommitWithContext(sk *SecretKey, context string, start, count uint64, root [HashSize]byte) ([64]byte, error) {
	return signCommit(sk, context, start, count, root, nil)
}

// signCommit is SignCommitWithContext with the test seam of signHashChecked:
// fault, when not nil, alters the signature before it is verified.
func signCommit(sk *SecretKey, context string, start, count uint64, root [HashSize]byte, fault func(*[64]byte)) ([64]byte, error) {
	var out [64]byte
	if !sk.valid() {
		return out, fmt.Errorf("%w: missing or zeroed secret key", ErrInvalidKey)
	}
	h := CommitHashWithContext(context, start, count, root)
	priv := sk.PrivKey()
	defer priv.Zero()
	// Step 1: btcec's BIP-340 signer without its own verification (FastSign),
	// so that step 2 can classify a failure.
	sig, err := schnorr.Sign(priv, h[:], schnorr.FastSign())
	if err != nil {
		return out, fmt.Errorf("%w: signing the commitment: %v", ErrInvalidKey, err)
	}
	copy(out[:], sig.Serialize())
	if fault != nil {
		fault(&out)
	}
	// Step 2 (BIP-340's final signing step): the signature must verify.
	if err := verifyCommit(&sk.pub, h, out[:]); err != nil {
		return [64]byte{}, fmt.Errorf("%w: the commitment signature failed its own BIP-340 verification and was withheld", ErrSigningFault)
	}
	return out, nil
}

// VerifyCommit checks a 64-byte BIP-340 signature over CommitHash(start,
// count, root) under pk (only x(pk) matters).
func VerifyCommit(pk *btcec.PublicKey, start, count uint64, root [HashSize]byte, sig []byte) error {
	return VerifyCommitWithContext(pk, "", start, count, root, sig)
}

// VerifyCommitWithContext checks a signature over CommitHashWithContext.
func VerifyCommitWithContext(pk *btcec.PublicKey, context string, start, count uint64, root [HashSize]byte, sig []byte) error {
	if pk == nil {
		return fmt.Errorf("%w: nil public key", ErrInvalidKey)
	}
	return verifyCommit(pk, CommitHashWithContext(context, start, count, root), sig)
}

// verifyCommit checks a 64-byte BIP-340 signature over the commit hash h.
func verifyCommit(pk *btcec.PublicKey, h [32]byte, sig []byte) error {
	if len(sig) != 64 {
		return fmt.Errorf("%w: commitment signature is malformed", ErrInvalidSignature)
	}
	key := secp.NewPubKey(pk)
	switch secp.VerifyBIP340(&key, (*[32]byte)(sig[:32]), (*[32]byte)(sig[32:]), h[:]) {
	case secp.Valid:
		return nil
	case secp.RNotInField, secp.SNotInOrder:
		// What schnorr.ParseSignature rejects: r >= p or s >= n.
		return fmt.Errorf("%w: commitment signature is malformed", ErrInvalidSignature)
	}
	return fmt.Errorf("%w: commitment signature does not verify", ErrInvalidSignature)
}

// VoteMessage returns the finality vote message BE64(height) || appHash
// (docs/spec.md §7), which the finality provider signs with Sign.
func VoteMessage(height uint64, appHash [32]byte) []byte {
	return VoteMessageWithContext("", height, appHash)
}

// VoteMessageWithContext returns context || BE64(height) || appHash,
// Babylon v3's vote message with a signing context.
func VoteMessageWithContext(context string, height uint64, appHash [32]byte) []byte {
	out := make([]byte, 0, len(context)+8+32)
	out = append(out, context...)
	out = binary.BigEndian.AppendUint64(out, height)
	return append(out, appHash[:]...)
}
