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
