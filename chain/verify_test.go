package chain

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

func jsonOf(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustHash(t *testing.T, s string) chainhash.Hash {
	t.Helper()
	h, err := chainhash.NewHashFromStr(s)
	if err != nil {
		t.Fatal(err)
	}
	return *h
}

// TestMerkleRootKnownAnswers: mainnet block 100,000 (four transactions)
// and the genesis block (one), from the chain itself; a list with its
// last hash repeated has the same root and is reported mutated.
func TestMerkleRootKnownAnswers(t *testing.T) {
	block100k := []chainhash.Hash{
		mustHash(t, "8c14f0db3df150123e6f3dbbf30f8b955a8249b62ac1d1ff16284aefa3d06d87"),
		mustHash(t, "fff2525b8931402dd09222c50775608f75787bd2b87e56995a7bdd30f79702c4"),
		mustHash(t, "6359f0868171b1d194cbee1af2f16ea598ae8fad666d9b012c8ed2b79a236ec4"),
		mustHash(t, "e9a66845e05d5abc0ad04ec80f774a7e585c6e8db975962d069a522137b80c1d"),
	}
	if root, mutated := merkleRoot(block100k); mutated || root != mustHash(t, "f3e94742aca4b5ef85488dc37c06c3282295ffec960994b2c0d5ac2a25a95766") {
		t.Fatalf("block 100000: %s, mutated %v", root, mutated)
	}
	g := chaincfg.MainNetParams.GenesisBlock
	if root, mutated := merkleRoot([]chainhash.Hash{g.Transactions[0].TxHash()}); mutated || root != g.Header.MerkleRoot {
		t.Fatalf("genesis: %s, mutated %v", root, mutated)
	}
	three := block100k[:3]
	root3, mutated := merkleRoot(three)
	if mutated {
		t.Fatal("three distinct hashes reported mutated")
	}
	root4, mutated := merkleRoot(append(append([]chainhash.Hash{}, three...), three[2]))
	if root4 != root3 || !mutated {
		t.Fatalf("repeated last hash: root %s (want %s), mutated %v", root4, root3, mutated)
	}
	if testMerkle(three) != root3 {
		t.Fatal("the test helper disagrees with merkleRoot")
	}
	if root, mutated := merkleRoot(nil); root != (chainhash.Hash{}) || mutated {
		t.Fatal("empty list")
	}
}

// TestCheckBlockTxs: the genesis blocks pass; a block whose coinbase is
// missing, moved or doubled does not.
func TestCheckBlockTxs(t *testing.T) {
	for _, p := range []*chaincfg.Params{&chaincfg.MainNetParams, &chaincfg.RegressionNetParams, &chaincfg.SigNetParams} {
		if err := checkBlockTxs(p.GenesisBlock); err != nil {
			t.Fatalf("%s genesis: %v", p.Name, err)
		}
	}
	blocks := newChain(2)
	b := copyBlock(t, blocks[1])
	b.AddTransaction(testTx(1))
	seal(b)
	if err := checkBlockTxs(b); err != nil {
		t.Fatalf("sealed block: %v", err)
	}
	swapped := copyBlock(t, b)
	swapped.Transactions[0], swapped.Transactions[1] = swapped.Transactions[1], swapped.Transactions[0]
	for name, bad := range map[string]func() *wire.MsgBlock{
		"no transactions": func() *wire.MsgBlock { c := copyBlock(t, b); c.Transactions = nil; return c },
		"coinbase second": func() *wire.MsgBlock { return swapped },
		"two coinbases": func() *wire.MsgBlock {
			c := copyBlock(t, b)
			c.Transactions[1] = c.Transactions[0].Copy()
			c.Transactions[1].TxIn[0].SignatureScript = []byte{1}
			return c
		},
	} {
		if err := checkBlockTxs(bad()); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestParseBlockSummaryHeader: the regtest genesis block as the nodes
// describe it reads, and commits to its coinbase; any header field
// changed makes the reply another block's.
func TestParseBlockSummaryHeader(t *testing.T) {
	g := chaincfg.RegressionNetParams.GenesisBlock
	hash := g.BlockHash()
	v := blockJSON(g, 0, 1)
	s, err := parseBlockSummary(jsonOf(t, v), hash)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.commitsTo(g.Transactions[0].TxHash()); err != nil {
		t.Fatal(err)
	}
	if err := s.commitsTo(chainhash.Hash{1}); !errors.Is(err, ErrBadReply) {
		t.Fatalf("a transaction not in the block: %v", err)
	}
	for field, val := range map[string]any{"version": 2, "merkleroot": hashOf(1), "time": 1, "bits": "207ffffe", "nonce": 3, "previousblockhash": hashOf(2)} {
		w := blockJSON(g, 0, 1)
		w[field] = val
		if _, err := parseBlockSummary(jsonOf(t, w), hash); !errors.Is(err, ErrBadReply) {
			t.Errorf("%s changed: %v", field, err)
		}
	}
	for _, bits := range []string{"", "7fffff", "0x207fff", "207fffff0", "zz7fffff"} {
		w := blockJSON(g, 0, 1)
		w["bits"] = bits
		if _, err := parseBlockSummary(jsonOf(t, w), hash); !errors.Is(err, ErrBadReply) {
			t.Errorf("bits %q: %v", bits, err)
		}
	}
}
