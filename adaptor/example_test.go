package adaptor_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/btcstake/btcstake/adaptor"
	"github.com/btcsuite/btcd/btcec/v2"
)

// A covenant member encrypts its signature on a slashing transaction under
// a finality provider's key. Once the FP's key leaks, the signature is
// decrypted; the completed signature in turn reveals the key.
func Example() {
	covBytes, _ := hex.DecodeString("0000000000000000000000000000000000000000000000000000000000000003")
	fpBytes, _ := hex.DecodeString("b7e151628aed2a6abf7158809cf4f3c762e7160f38b4da56a784d9045190cfef")
	cov, _ := btcec.PrivKeyFromBytes(covBytes)
	fp, fpPK := btcec.PrivKeyFromBytes(fpBytes)
	sighash := sha256.Sum256([]byte("slashing tx sighash"))

	ek, _ := adaptor.NewEncryptionKey(fpPK)
	sig, _ := adaptor.EncSignAux(cov, ek, sighash[:], [32]byte{})
	fmt.Println("adaptor signature valid:", adaptor.EncVerify(cov.PubKey(), ek, sighash[:], sig) == nil)

	dk, _ := adaptor.NewDecryptionKey(fp)
	final, _ := adaptor.Decrypt(sig, dk)
	fmt.Println("BIP-340 signature valid:", final.Verify(sighash[:], cov.PubKey()))

	recovered, _ := adaptor.RecoverSecretKey(sig, final, fpPK)
	fmt.Println("FP key recovered:", bytes.Equal(recovered.Serialize(), fp.Serialize()))
	// Output:
	// adaptor signature valid: true
	// BIP-340 signature valid: true
	// FP key recovered: true
}
