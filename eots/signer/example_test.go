package signer_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/btcstake/btcstake/eots"
	"github.com/btcstake/btcstake/eots/signer"
)

// A finality provider's votes: the first signature at a height is recorded,
// a repeat returns it, a different message at that height is refused.
func Example() {
	dir, _ := os.MkdirTemp("", "signer-example")
	defer os.RemoveAll(dir)
	skBytes := make([]byte, 32)
	skBytes[31] = 3
	sk, _ := eots.ParseSecretKey(skBytes)

	st, err := signer.OpenStore(filepath.Join(dir, "records.db"), signer.StoreOptions{Create: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer st.Close()
	s, _ := signer.New(st, sk)
	defer s.Close()

	chain := []byte("bbn-test-5")
	vote := eots.VoteMessage(100, [32]byte{1})
	first, _ := s.Sign(chain, 100, vote)
	again, _ := s.Sign(chain, 100, vote)
	_, err = s.Sign(chain, 100, eots.VoteMessage(100, [32]byte{2}))

	fmt.Println("valid:", eots.Verify(sk.PubKey(), first.PubRand, vote, first.Sig) == nil)
	fmt.Println("repeat returns the stored signature:", again.Existing && again.Sig == first.Sig)
	fmt.Println("conflict refused:", errors.Is(err, signer.ErrDoubleSign))
	// Output:
	// valid: true
	// repeat returns the stored signature: true
	// conflict refused: true
}

// A store that lost its last record (here: an older copy of the file put
// back, as a dropped disk write leaves it) is refused; after the operator
// confirms the highest height signed, Repair accepts it with a floor, and
// the lost height is never signed again.
func ExampleRepair() {
	dir, _ := os.MkdirTemp("", "signer-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "records.db")
	skBytes := make([]byte, 32)
	skBytes[31] = 3
	sk, _ := eots.ParseSecretKey(skBytes)
	chain := []byte("bbn-test-5")

	st, _ := signer.OpenStore(path, signer.StoreOptions{Create: true})
	s, _ := signer.New(st, sk)
	s.Sign(chain, 100, eots.VoteMessage(100, [32]byte{1}))
	older, _ := os.ReadFile(path)
	s.Sign(chain, 101, eots.VoteMessage(101, [32]byte{1}))
	st.Close()
	os.WriteFile(path, older, 0o600) // the record of height 101 is gone

	_, err := signer.OpenStore(path, signer.StoreOptions{})
	fmt.Println("refused:", errors.Is(err, signer.ErrStoreRolledBack))

	status, err := signer.Repair(path, signer.RepairRequest{ChainID: chain, PublicKey: sk.XOnly(), HighestSigned: 101, Confirmed: true})
	fmt.Println("repaired:", err == nil && status.Err == nil)

	st, _ = signer.OpenStore(path, signer.StoreOptions{})
	defer st.Close()
	s, _ = signer.New(st, sk)
	_, err = s.Sign(chain, 101, eots.VoteMessage(101, [32]byte{2}))
	fmt.Println("lost height refused:", errors.Is(err, signer.ErrBelowFloor))
	_, err = s.Sign(chain, 102, eots.VoteMessage(102, [32]byte{2}))
	fmt.Println("next height signed:", err == nil)
	// Output:
	// refused: true
	// repaired: true
	// lost height refused: true
	// next height signed: true
}
