package chain

import (
	"bytes"
	"fmt"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

// testMerkle is the Merkle root written the textbook way (recursively,
// the last hash of an odd level paired with itself), independently of
// merkleRoot, for building test blocks.
func testMerkle(ids []chainhash.Hash) chainhash.Hash {
	if len(ids) == 1 {
		return ids[0]
	}
	var next []chainhash.Hash
	for i := 0; i < len(ids); i += 2 {
		j := min(i+1, len(ids)-1)
		pair := append(append([]byte{}, ids[i][:]...), ids[j][:]...)
		next = append(next, chainhash.DoubleHashH(pair))
	}
	return testMerkle(next)
}

var testWitnessMagic = []byte{0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed}

// seal makes a test block's header commit to its transactions, as a miner
// does: a witness commitment in the coinbase (BIP 141) when another
// transaction carries witness data, then the Merkle root of the txids.
// It may be called again after transactions change.
func seal(b *wire.MsgBlock) {
	cb := b.Transactions[0]
	outs := cb.TxOut[:0:0]
	for _, o := range cb.TxOut {
		if !bytes.HasPrefix(o.PkScript, testWitnessMagic) {
			outs = append(outs, o)
		}
	}
	cb.TxOut = outs
	cb.TxIn[0].Witness = nil
	witness := false
	for _, tx := range b.Transactions[1:] {
		witness = witness || tx.HasWitness()
	}
	if witness {
		reserved := bytes.Repeat([]byte{0x5a}, 32)
		cb.TxIn[0].Witness = wire.TxWitness{reserved}
		wtxids := []chainhash.Hash{{}}
		for _, tx := range b.Transactions[1:] {
			wtxids = append(wtxids, tx.WitnessHash())
		}
		root := testMerkle(wtxids)
		commit := chainhash.DoubleHashB(append(root[:], reserved...))
		cb.TxOut = append(cb.TxOut, wire.NewTxOut(0, append(append([]byte{}, testWitnessMagic...), commit...)))
	}
	var ids []chainhash.Hash
	for _, tx := range b.Transactions {
		ids = append(ids, tx.TxHash())
	}
	b.Header.MerkleRoot = testMerkle(ids)
}

// blockJSON describes b as getblock verbosity 1 does (both nodes), b at
// height with confirmations.
func blockJSON(b *wire.MsgBlock, height, confirmations int) map[string]any {
	v := map[string]any{
		"hash": b.BlockHash().String(), "height": height, "confirmations": confirmations,
		"version": b.Header.Version, "merkleroot": b.Header.MerkleRoot.String(),
		"time": b.Header.Timestamp.Unix(), "bits": fmt.Sprintf("%08x", b.Header.Bits), "nonce": b.Header.Nonce,
	}
	if height > 0 {
		v["previousblockhash"] = b.Header.PrevBlock.String()
	}
	ids := []string{}
	for _, tx := range b.Transactions {
		ids = append(ids, tx.TxHash().String())
	}
	v["tx"] = ids
	return v
}
