package keystore_test

import (
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/btcsuite/btcd/btcec/v2"

	"github.com/btcstake/btcstake/keystore"
)

// Write a key to a new keystore, read its public key without the
// passphrase, and unlock it.
func Example() {
	dir, err := os.MkdirTemp("", "keystore-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "staker.keystore")

	raw, _ := hex.DecodeString("b7e151628aed2a6abf7158809cf4f3c762e7160f38b4da56a784d9045190cfef")
	key, _ := btcec.PrivKeyFromBytes(raw)
	pass := []byte("correct horse battery staple")
	// WorkFactor 10 keeps the example fast; real keys keep the default (18).
	if err := keystore.Write(path, key, pass, keystore.Options{WorkFactor: 10}); err != nil {
		panic(err)
	}

	pk, err := keystore.PublicKey(path) // no passphrase needed
	if err != nil {
		panic(err)
	}
	fmt.Printf("public key %x\n", pk.SerializeCompressed())

	unlocked, err := keystore.Load(path, pass)
	if err != nil {
		panic(err)
	}
	defer unlocked.Zero()
	fmt.Println("same key:", unlocked.Key.Equals(&key.Key))

	err = keystore.Write(path, key, pass, keystore.Options{WorkFactor: 10})
	fmt.Println(errors.Is(err, keystore.ErrExists))
	// Output:
	// public key 02dff1d77f2a671c5f36183726db2341be58feae1da2deced843240f7b502ba659
	// same key: true
	// true
}
