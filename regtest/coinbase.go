package regtest

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

// maxCoinbaseTag bounds the tag of MineCoinbase: a coinbase script holds
// at most 100 bytes, and the height push takes up to 5.
const maxCoinbaseTag = 90

// CoinbaseTx is the coinbase transaction MineCoinbase puts in the block at
// height: one input (the null outpoint, sequence 0xffffffff) whose script
// is the BIP-34 height push followed by a push of tag, and one output
// paying value to pkScript; version 1, lock time 0, no witness. Nothing in
// it depends on the node, the time or chance: the same arguments give the
// same transaction, so the same txid.
func CoinbaseTx(height int32, tag, pkScript []byte, value int64) (*wire.MsgTx, error) {
	if height < 1 || len(tag) == 0 || len(tag) > maxCoinbaseTag || len(pkScript) == 0 || value <= 0 {
		return nil, fmt.Errorf("%w: coinbase at height %d with a %d-byte tag, a %d-byte script and value %d",
			ErrInvalidArgument, height, len(tag), len(pkScript), value)
	}
	sigScript, err := txscript.NewScriptBuilder().AddInt64(int64(height)).AddData(tag).Script()
	if err != nil {
		return nil, fmt.Errorf("%w: coinbase script: %v", ErrInvalidArgument, err)
	}
	tx := wire.NewMsgTx(1)
	tx.AddTxIn(&wire.TxIn{
		PreviousOutPoint: wire.OutPoint{Index: wire.MaxPrevOutIndex},
		SignatureScript:  sigScript,
		Sequence:         wire.MaxTxInSequenceNum,
	})
	tx.AddTxOut(wire.NewTxOut(value, append([]byte(nil), pkScript...)))
	return tx, nil
}

// subsidy is the block reward at height on the node's chain (regtest
// halves it every 150 blocks).
func (n *Node) subsidy(height int32) int64 {
	halvings := height / n.params.SubsidyReductionInterval
	if halvings >= 63 {
		return 0
	}
	return 50_0000_0000 >> uint(halvings)
}

// MineCoinbase mines one block on top of the tip that holds nothing but
// CoinbaseTx(tip+1, tag, pkScript, value), built by the harness and handed
// to the node with submitblock, and returns that coinbase and the block's
// height. value must not exceed the block reward. Transactions waiting in
// the mempool stay there.
//
// Blocks the node mines itself (Mine) pay the harness's random key, and
// btcd draws a random extra nonce for every coinbase, so their txids, and
// the txids of everything spending their coins, differ from run to run.
// A coinbase from MineCoinbase is the same in every run that reaches the
// same height: a payment funded from it repeats its txid too. The output
// can be spent once it is CoinbaseMaturity (100) blocks deep.
func (n *Node) MineCoinbase(pkScript []byte, value int64, tag []byte) (*wire.MsgTx, int32, error) {
	tip, err := n.Height()
	if err != nil {
		return nil, 0, err
	}
	height := tip + 1
	if r := n.subsidy(height); value > r {
		return nil, 0, fmt.Errorf("%w: a coinbase at height %d pays at most %d sat, not %d", ErrInvalidArgument, height, r, value)
	}
	cb, err := CoinbaseTx(height, tag, pkScript, value)
	if err != nil {
		return nil, 0, err
	}
	prevHash, err := n.GetBlockHash(tip)
	if err != nil {
		return nil, 0, err
	}
	prev, err := n.GetBlock(prevHash)
	if err != nil {
		return nil, 0, err
	}
	// The header: the tip's difficulty (regtest does not retarget), a time
	// after the tip's (so after the median of the last 11) and not in the
	// future, and a nonce that meets the target. The block's hash is not
	// repeatable (the time is not), the coinbase's txid is.
	ts := time.Unix(max(prev.Header.Timestamp.Unix()+1, time.Now().Unix()), 0)
	merkleRoot := cb.TxHash() // of a block with one transaction
	block := wire.NewMsgBlock(wire.NewBlockHeader(0x20000000, &prevHash, &merkleRoot, prev.Header.Bits, 0))
	block.Header.Timestamp = ts
	if err := block.AddTransaction(cb); err != nil {
		return nil, 0, fmt.Errorf("%w: %v", ErrInvalidArgument, err)
	}
	if !solve(&block.Header) {
		return nil, 0, fmt.Errorf("%w: no nonce meets the target of bits %08x", ErrRPC, block.Header.Bits)
	}
	var buf bytes.Buffer
	if err := block.Serialize(&buf); err != nil {
		return nil, 0, fmt.Errorf("%w: serialising the block: %v", ErrRPC, err)
	}
	res, err := n.Call("submitblock", hex.EncodeToString(buf.Bytes()))
	if err != nil {
		return nil, 0, err
	}
	var reason *string
	if err := json.Unmarshal(res, &reason); err != nil || reason != nil {
		return nil, 0, fmt.Errorf("%w: submitblock refused the block at height %d: %s", ErrRPC, height, res)
	}
	if got, err := n.GetBlockHash(height); err != nil || got != block.Header.BlockHash() {
		return nil, 0, fmt.Errorf("%w: the submitted block is not the chain's block at height %d (%s, %v)", ErrRPC, height, got, err)
	}
	return cb, height, nil
}

// solve searches the nonce for a header hash at or below the target its
// bits encode (nBits' compact form), and reports whether one was found.
// On regtest about every second nonce does.
func solve(h *wire.BlockHeader) bool {
	target := compactToBig(h.Bits)
	for nonce := uint32(0); ; nonce++ {
		h.Nonce = nonce
		if hashToBig(h.BlockHash()).Cmp(target) <= 0 {
			return true
		}
		if nonce == ^uint32(0) {
			return false
		}
	}
}

// compactToBig decodes the compact target of a header's bits: a 3-byte
// mantissa (its top bit the sign, never set in a valid target) times
// 256^(exponent-3).
func compactToBig(bits uint32) *big.Int {
	mantissa := int64(bits & 0x007fffff)
	exponent := uint(bits >> 24)
	t := big.NewInt(mantissa)
	if exponent <= 3 {
		return t.Rsh(t, 8*(3-exponent))
	}
	return t.Lsh(t, 8*(exponent-3))
}

// hashToBig reads a block hash as the number proof of work compares: the
// hash bytes are little-endian.
func hashToBig(h chainhash.Hash) *big.Int {
	var be [chainhash.HashSize]byte
	for i := range h {
		be[len(h)-1-i] = h[i]
	}
	return new(big.Int).SetBytes(be[:])
}
