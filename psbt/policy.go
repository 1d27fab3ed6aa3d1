package psbt

import (
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

// The relay-policy arithmetic the builders need, written here rather than
// imported from btcd's node packages (mempool, blockchain): those live in
// the btcd root module, which would then be forced on every program that
// imports this library, breaking the ones still on btcd v0.24/v0.25.

// dustThreshold is the smallest value an output with pkScript may carry
// under the default relay policy (a relay fee of 1000 sat/kvB, counted
// three times): three times the bytes of the output plus the bytes of a
// typical input spending it, which btcd's mempool.GetDustThreshold and
// Bitcoin Core's GetDustThreshold both compute as
//
//  1. size = the output's serialization: 8 (value) + compact size of the
//     script length + the script;
//  2. size += 41: the input's outpoint (36), script length (1) and
//     sequence (4);
//  3. size += 107 / 4 = 26 (integer division) for a witness program, whose
//     signature and key (107 bytes) are witness data, discounted four
//     times; else size += 107, the signature script of a P2PKH spend;
//  4. threshold = 3 * size.
//
// A value below it is dust: 330 sat for P2TR and P2WSH, 294 for P2WPKH, 540
// for P2SH, 546 for P2PKH. (btcd states the test as value*1000/threshold <
// 1000, which for whole satoshis is value < threshold.)
func dustThreshold(pkScript []byte) int64 {
	size := int64(8 + wire.VarIntSerializeSize(uint64(len(pkScript))) + len(pkScript))
	size += 36 + 1 + 4
	if txscript.IsWitnessProgram(pkScript) {
		size += 107 / 4
	} else {
		size += 107
	}
	return 3 * size
}

// txWeightOf is a transaction's weight (BIP-141): its size without
// witnesses counted four times, plus the witness bytes once, which is
// stripped size * 3 + full size.
func txWeightOf(tx *wire.MsgTx) int64 {
	return int64(tx.SerializeSizeStripped()*3 + tx.SerializeSize())
}
