package regtest

import (
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

// spendable is a coin the harness signs for directly, without a PSBT: a
// P2WPKH output of key, or a BIP-86 P2TR output (key-path spend, key
// tweaked with no script tree).
type spendable struct {
	op       wire.OutPoint
	value    int64
	pkScript []byte
	key      *btcec.PrivateKey
}

// p2tr is the BIP-86 P2TR script of pk: OP_1 <32-byte tweaked x-only key>.
func p2tr(pk *btcec.PublicKey) []byte {
	out := txscript.ComputeTaprootKeyNoScript(pk)
	return append([]byte{txscript.OP_1, 0x20}, schnorr.SerializePubKey(out)...)
}

// witnessBytes is the largest witness of a signed spend of pkScript:
// P2WPKH has an item count, a DER signature of at most 72 bytes with its
// sighash byte and a 33-byte key, each with a length byte (108); P2TR
// key-path has an item count and a 64-byte signature with its length byte
// (66).
func witnessBytes(pkScript []byte) (int, error) {
	switch {
	case len(pkScript) == 22 && pkScript[0] == txscript.OP_0 && pkScript[1] == 0x14:
		return 1 + 1 + 72 + 1 + 33, nil
	case len(pkScript) == 34 && pkScript[0] == txscript.OP_1 && pkScript[1] == 0x20:
		return 1 + 1 + 64, nil
	}
	return 0, fmt.Errorf("%w: the harness signs only P2WPKH and P2TR coins, not %x", ErrInvalidArgument, pkScript)
}

// signedFee is the fee of tx at FeeRate (sat/vB) once every input carries
// the largest witness of its coin.
func signedFee(tx *wire.MsgTx, coins []spendable) (int64, error) {
	wit := 2 // segwit marker and flag
	for _, c := range coins {
		n, err := witnessBytes(c.pkScript)
		if err != nil {
			return 0, err
		}
		wit += n
	}
	weight := tx.SerializeSizeStripped()*4 + wit
	return int64((weight+3)/4) * FeeRate, nil
}

// payFrom builds and signs a transaction spending every coin of coins
// (inputs in that order) to outs (in order), with change to changeScript
// (owned by changeKey, P2WPKH or P2TR) as the last output when at least
// changeDust is left after the fee. It returns the transaction and the
// change coin (nil when there is none). Nothing is broadcast.
func payFrom(coins []spendable, outs []*wire.TxOut, changeScript []byte, changeKey *btcec.PrivateKey) (*wire.MsgTx, *spendable, error) {
	if len(coins) == 0 || len(outs) == 0 {
		return nil, nil, fmt.Errorf("%w: a payment needs coins and outputs", ErrInvalidArgument)
	}
	tx := wire.NewMsgTx(2)
	var in, out int64
	for _, c := range coins {
		tx.AddTxIn(wire.NewTxIn(&c.op, nil, nil))
		in += c.value
	}
	for _, o := range outs {
		tx.AddTxOut(wire.NewTxOut(o.Value, append([]byte(nil), o.PkScript...)))
		out += o.Value
	}
	tx.AddTxOut(wire.NewTxOut(0, append([]byte(nil), changeScript...)))
	fee, err := signedFee(tx, coins)
	if err != nil {
		return nil, nil, err
	}
	change := in - out - fee
	if change < 0 {
		return nil, nil, fmt.Errorf("%w: %d sat in %d coins cannot pay %d sat and a %d sat fee", ErrInsufficientFunds, in, len(coins), out, fee)
	}
	var ch *spendable
	if change < changeDust {
		tx.TxOut = tx.TxOut[:len(tx.TxOut)-1]
	} else {
		tx.TxOut[len(tx.TxOut)-1].Value = change
	}
	if err := signCoins(tx, coins); err != nil {
		return nil, nil, err
	}
	if change >= changeDust {
		ch = &spendable{op: wire.OutPoint{Hash: tx.TxHash(), Index: uint32(len(tx.TxOut) - 1)}, value: change,
			pkScript: tx.TxOut[len(tx.TxOut)-1].PkScript, key: changeKey}
	}
	return tx, ch, nil
}

// signCoins signs input i of tx as the spend of coins[i]: a BIP-143
// SIGHASH_ALL ECDSA signature and the compressed key for P2WPKH, a
// BIP-341 SIGHASH_DEFAULT key-path Schnorr signature (the key tweaked per
// BIP-86) for P2TR.
func signCoins(tx *wire.MsgTx, coins []spendable) error {
	if len(coins) != len(tx.TxIn) {
		return fmt.Errorf("%w: %d coins for %d inputs", ErrInvalidArgument, len(coins), len(tx.TxIn))
	}
	var fetcher txscript.PrevOutputFetcher
	if len(coins) == 1 {
		fetcher = txscript.NewCannedPrevOutputFetcher(coins[0].pkScript, coins[0].value)
	} else {
		m := make(map[wire.OutPoint]*wire.TxOut, len(coins))
		for _, c := range coins {
			m[c.op] = wire.NewTxOut(c.value, c.pkScript)
		}
		fetcher = txscript.NewMultiPrevOutFetcher(m)
	}
	hashes := txscript.NewTxSigHashes(tx, fetcher)
	for i, c := range coins {
		var wit wire.TxWitness
		var err error
		if len(c.pkScript) == 22 {
			wit, err = txscript.WitnessSignature(tx, hashes, i, c.value, c.pkScript, txscript.SigHashAll, c.key, true)
		} else {
			wit, err = txscript.TaprootWitnessSignature(tx, hashes, i, c.value, c.pkScript, txscript.SigHashDefault, c.key)
		}
		if err != nil {
			return fmt.Errorf("%w: signing input %d: %v", ErrInvalidArgument, i, err)
		}
		tx.TxIn[i].Witness = wit
	}
	return nil
}
