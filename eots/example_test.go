package eots_test

import (
	"bytes"
	"encoding/hex"
	"fmt"

	"github.com/btcstake/btcstake/eots"
)

// A finality provider signs two different votes with the randomness of one
// height; anyone holding both recovers its secret key.
func Example() {
	skBytes, _ := hex.DecodeString("b7e151628aed2a6abf7158809cf4f3c762e7160f38b4da56a784d9045190cfef")
	sk, _ := eots.ParseSecretKey(skBytes)
	chainID := []byte("bbn-test-5")

	k, _ := eots.DeriveRand(sk, chainID, 100)
	r := k.PublicRand()
	vote1 := eots.VoteMessage(100, [32]byte{1})
	vote2 := eots.VoteMessage(100, [32]byte{2})
	s1, _ := eots.Sign(sk, k, vote1)
	s2, _ := eots.Sign(sk, k, vote2)

	fmt.Println("vote 1 valid:", eots.Verify(sk.PubKey(), r, vote1, s1) == nil)
	leaked, err := eots.Extract(sk.PubKey(), r, vote1, s1, vote2, s2)
	if err != nil {
		fmt.Println(err)
		return
	}
	got, want := leaked.Bytes(), sk.Bytes()
	fmt.Println("key leaked:", bytes.Equal(got[:], want[:]))
	// Output:
	// vote 1 valid: true
	// key leaked: true
}

// Committing to randomness for ten heights and proving one of them.
func ExampleCommitProofs() {
	skBytes, _ := hex.DecodeString("0000000000000000000000000000000000000000000000000000000000000003")
	sk, _ := eots.ParseSecretKey(skBytes)
	list, _ := eots.PublicRandList(sk, []byte("bbn-test-5"), 1000, 10, 1)
	root, proofs := eots.CommitProofs(list)
	sig, _ := eots.SignCommit(sk, 1000, 10, root)

	fmt.Println("commit signature valid:", eots.VerifyCommit(sk.PubKey(), 1000, 10, root, sig[:]) == nil)
	// The randomness for height 1003 is item 3.
	fmt.Println("proof valid:", eots.VerifyInclusion(root, 10, 3, list[3][:], &proofs[3]) == nil)
	fmt.Println("aunts:", len(proofs[3].Aunts))
	// Output:
	// commit signature valid: true
	// proof valid: true
	// aunts: 4
}

// Checking a randomness commitment and the votes made with it in one batch:
// the tampered vote is named, with the error verifying it alone gives.
func ExampleVerifyBatch() {
	skBytes, _ := hex.DecodeString("0000000000000000000000000000000000000000000000000000000000000003")
	sk, _ := eots.ParseSecretKey(skBytes)
	chainID := []byte("bbn-test-5")
	list, _ := eots.PublicRandList(sk, chainID, 1000, 10, 1)
	root, _ := eots.CommitProofs(list)
	commitSig, _ := eots.SignCommit(sk, 1000, 10, root)

	items := []eots.BatchItem{eots.CommitItem(sk.PubKey(), "", 1000, 10, root, commitSig[:])}
	for h := uint64(1000); h < 1003; h++ {
		k, _ := eots.DeriveRand(sk, chainID, h)
		vote := eots.VoteMessage(h, [32]byte{byte(h)})
		s, _ := eots.Sign(sk, k, vote)
		if h == 1002 {
			vote = eots.VoteMessage(h, [32]byte{0xff}) // not what was signed
		}
		items = append(items, eots.VoteItem(sk.PubKey(), k.PublicRand(), vote, s))
	}
	fmt.Println(eots.VerifyBatch(items))
	fmt.Println("commitment and first two votes:", eots.VerifyBatch(items[:3]) == nil)
	// Output:
	// 1 signature(s) of the batch do not verify: item 3: invalid signature: s·G - e·P has odd y
	// commitment and first two votes: true
}
