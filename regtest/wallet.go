package regtest

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

// FeeRate is the fee rate of the harness's own funding transactions, in
// satoshis per virtual byte. btcd has no fee estimation; twice the default
// relay minimum is always accepted on an empty regtest mempool.
const FeeRate = 2

// changeDust is the smallest change output the harness keeps; less goes to
// the fee. It is well above any node's dust limit for a P2TR output.
const changeDust = 1000

// wallet is the harness's key and the outputs paying it. The key pays
// coinbases (a BIP-86 P2TR key-path output) and change.
type wallet struct {
	key      *btcec.PrivateKey
	pkScript []byte
	addr     string
	maturity int32

	utxos   map[wire.OutPoint]*utxo
	scanned int32 // blocks up to this height are in utxos
	// needMempool: the mempool may hold payments this wallet did not
	// make (set by Attach); read it on first use.
	needMempool bool
}

type utxo struct {
	value    int64
	height   int32 // 0 while unconfirmed
	coinbase bool
}

func newWallet(params *chaincfg.Params) (*wallet, error) {
	key, err := btcec.NewPrivateKey()
	if err != nil {
		return nil, fmt.Errorf("%w: generating the mining key: %v", ErrStart, err)
	}
	return walletFromKey(key, params)
}

func walletFromKey(key *btcec.PrivateKey, params *chaincfg.Params) (*wallet, error) {
	out := txscript.ComputeTaprootKeyNoScript(key.PubKey())
	addr, err := address.NewAddressTaproot(schnorr.SerializePubKey(out), params)
	if err != nil {
		return nil, fmt.Errorf("%w: mining address: %v", ErrStart, err)
	}
	script, err := txscript.PayToAddrScript(addr)
	if err != nil {
		return nil, fmt.Errorf("%w: mining script: %v", ErrStart, err)
	}
	return &wallet{
		key: key, pkScript: script, addr: addr.EncodeAddress(),
		maturity: int32(params.CoinbaseMaturity),
		utxos:    map[wire.OutPoint]*utxo{},
	}, nil
}

// MiningAddress returns the address the node mines to (the harness's key).
func (n *Node) MiningAddress() string { return n.w.addr }

// MiningScript returns the pkScript the node mines to.
func (n *Node) MiningScript() []byte { return append([]byte(nil), n.w.pkScript...) }

// apply records a transaction's effect on the wallet: outputs paying the
// harness are added (at height, 0 for the mempool), inputs spending them
// are removed.
func (w *wallet) apply(tx *wire.MsgTx, height int32, coinbase bool) {
	w.addOutputs(tx, height, coinbase)
	w.removeInputs(tx)
}

func (w *wallet) addOutputs(tx *wire.MsgTx, height int32, coinbase bool) {
	txid := tx.TxHash()
	for i, out := range tx.TxOut {
		if string(out.PkScript) != string(w.pkScript) {
			continue
		}
		op := wire.OutPoint{Hash: txid, Index: uint32(i)}
		if u, ok := w.utxos[op]; ok {
			u.height = height
			continue
		}
		w.utxos[op] = &utxo{value: out.Value, height: height, coinbase: coinbase}
	}
}

func (w *wallet) removeInputs(tx *wire.MsgTx) {
	for _, in := range tx.TxIn {
		delete(w.utxos, in.PreviousOutPoint)
	}
}

// syncWallet brings the wallet up to the chain tip by reading the blocks
// it has not seen yet. A block mined by anyone is handled alike.
func (n *Node) syncWallet() (int32, error) {
	tip, err := n.Height()
	if err != nil {
		return 0, err
	}
	w := n.w
	for h := w.scanned + 1; h <= tip; h++ {
		b, err := n.BlockAt(h)
		if err != nil {
			return 0, err
		}
		for i, tx := range b.Transactions {
			w.apply(tx, h, i == 0)
		}
		w.scanned = h
	}
	if w.needMempool {
		if err := n.syncMempool(); err != nil {
			return 0, err
		}
		w.needMempool = false
	}
	return tip, nil
}

// syncMempool adds the harness's outputs from mempool transactions and
// drops the ones they spend (used when attaching to a running node, whose
// mempool may hold earlier funding transactions).
func (n *Node) syncMempool() error {
	ids, err := n.MempoolTxids()
	if err != nil {
		return err
	}
	txs := make([]*wire.MsgTx, 0, len(ids))
	for _, id := range ids {
		tx, err := n.GetRawTransaction(id)
		if errors.Is(err, ErrNotFound) {
			continue // mined or evicted meanwhile; the next sync sees it
		}
		if err != nil {
			return err
		}
		txs = append(txs, tx)
	}
	// Outputs first, then spends, so that the order of the list does not
	// matter for chains of unconfirmed transactions.
	for _, tx := range txs {
		n.w.addOutputs(tx, 0, false)
	}
	for _, tx := range txs {
		n.w.removeInputs(tx)
	}
	return nil
}

// Fund pays amount satoshis to pkScript from the harness's mature coins and
// broadcasts the transaction (it is not mined: call Mine to confirm it). It
// returns the paying outpoint and the transaction. A rejection by the node
// (for example a dust amount) is a *RejectError.
func (n *Node) Fund(pkScript []byte, amount int64) (wire.OutPoint, *wire.MsgTx, error) {
	tx, err := n.FundOutputs(wire.NewTxOut(amount, pkScript))
	if err != nil {
		return wire.OutPoint{}, nil, err
	}
	return wire.OutPoint{Hash: tx.TxHash(), Index: 0}, tx, nil
}

// FundOutputs broadcasts one transaction paying all outs (in order, as
// outputs 0..len(outs)-1; change, if any, comes last) from the harness's
// coins.
func (n *Node) FundOutputs(outs ...*wire.TxOut) (*wire.MsgTx, error) {
	if len(outs) == 0 {
		return nil, fmt.Errorf("%w: no outputs to fund", ErrInvalidArgument)
	}
	var total int64
	for i, o := range outs {
		if o == nil || len(o.PkScript) == 0 || len(o.PkScript) > 10000 {
			return nil, fmt.Errorf("%w: output %d: missing or oversized pkScript", ErrInvalidArgument, i)
		}
		if o.Value < 0 || o.Value > 21e14 {
			return nil, fmt.Errorf("%w: output %d: amount %d out of range", ErrInvalidArgument, i, o.Value)
		}
		total += o.Value
	}
	if n.isStopped() {
		return nil, ErrStopped
	}
	n.wmu.Lock()
	defer n.wmu.Unlock()
	// Another process using the same key (the CLI next to a test) may have
	// spent a coin this wallet has not seen; learn the mempool and retry
	// once.
	tx, err := n.fundOnce(outs, total)
	if errors.Is(err, ErrMissingInputs) {
		if serr := n.syncMempool(); serr != nil {
			return nil, serr
		}
		tx, err = n.fundOnce(outs, total)
	}
	return tx, err
}

// fundOnce selects coins, signs and broadcasts; the caller holds wmu.
func (n *Node) fundOnce(outs []*wire.TxOut, total int64) (*wire.MsgTx, error) {
	tip, err := n.syncWallet()
	if err != nil {
		return nil, err
	}
	w := n.w

	// Candidates: confirmed mature coins oldest first, then unconfirmed
	// change.
	type cand struct {
		op wire.OutPoint
		u  *utxo
	}
	var cands []cand
	for op, u := range w.utxos {
		if u.coinbase && (u.height == 0 || tip+1-u.height < w.maturity) {
			continue
		}
		cands = append(cands, cand{op, u})
	}
	sort.Slice(cands, func(i, j int) bool {
		hi, hj := cands[i].u.height, cands[j].u.height
		if (hi == 0) != (hj == 0) {
			return hj == 0
		}
		if hi != hj {
			return hi < hj
		}
		if c := bytes.Compare(cands[i].op.Hash[:], cands[j].op.Hash[:]); c != 0 {
			return c < 0
		}
		return cands[i].op.Index < cands[j].op.Index
	})

	tx := wire.NewMsgTx(2)
	for _, o := range outs {
		tx.AddTxOut(wire.NewTxOut(o.Value, append([]byte(nil), o.PkScript...)))
	}
	change := wire.NewTxOut(0, w.pkScript)
	tx.AddTxOut(change)
	var in int64
	var fee int64
	prev := map[wire.OutPoint]*wire.TxOut{}
	for _, c := range cands {
		tx.AddTxIn(wire.NewTxIn(&c.op, nil, nil))
		prev[c.op] = wire.NewTxOut(c.u.value, w.pkScript)
		in += c.u.value
		fee = estimateFee(tx)
		if in >= total+fee {
			break
		}
	}
	if in < total+fee || len(tx.TxIn) == 0 {
		return nil, fmt.Errorf("%w: need %d sat plus fee, have %d sat spendable at height %d; mine more blocks", ErrInsufficientFunds, total, in, tip)
	}
	change.Value = in - total - fee
	if change.Value < changeDust {
		tx.TxOut = tx.TxOut[:len(tx.TxOut)-1]
	}
	if err := w.sign(tx, prev); err != nil {
		return nil, err
	}
	if _, err := n.Broadcast(tx); err != nil {
		return nil, err
	}
	w.apply(tx, 0, false)
	return tx, nil
}

// estimateFee returns the fee of tx at FeeRate once every input carries a
// 64-byte key-path signature.
func estimateFee(tx *wire.MsgTx) int64 {
	base := tx.SerializeSizeStripped()
	// Each input's witness: one item count byte, one length byte, 64-byte
	// signature; plus the segwit marker and flag.
	witness := 2 + len(tx.TxIn)*(1+1+64)
	weight := base*4 + witness
	vsize := (weight + 3) / 4
	return int64(vsize) * FeeRate
}

// sign adds BIP-86 key-path signatures to every input.
func (w *wallet) sign(tx *wire.MsgTx, prev map[wire.OutPoint]*wire.TxOut) error {
	fetcher := txscript.NewMultiPrevOutFetcher(prev)
	hashes := txscript.NewTxSigHashes(tx, fetcher)
	for i, in := range tx.TxIn {
		p := prev[in.PreviousOutPoint]
		wit, err := txscript.TaprootWitnessSignature(tx, hashes, i, p.Value, p.PkScript, txscript.SigHashDefault, w.key)
		if err != nil {
			return fmt.Errorf("%w: signing input %d: %v", ErrInvalidArgument, i, err)
		}
		tx.TxIn[i].Witness = wit
	}
	return nil
}

// Balance returns the harness wallet's spendable satoshis (mature
// coinbases and change) and the immature coinbase total.
func (n *Node) Balance() (spendable, immature int64, err error) {
	n.wmu.Lock()
	defer n.wmu.Unlock()
	tip, err := n.syncWallet()
	if err != nil {
		return 0, 0, err
	}
	for _, u := range n.w.utxos {
		if u.coinbase && (u.height == 0 || tip+1-u.height < n.w.maturity) {
			immature += u.value
		} else {
			spendable += u.value
		}
	}
	return spendable, immature, nil
}

// immatureCoinbase returns the newest unspent coinbase output of the
// harness that cannot be spent in the next block yet. ok is false when
// every coinbase is mature.
func (n *Node) immatureCoinbase() (op wire.OutPoint, value int64, ok bool, err error) {
	n.wmu.Lock()
	defer n.wmu.Unlock()
	tip, err := n.syncWallet()
	if err != nil {
		return op, 0, false, err
	}
	best := int32(-1)
	for o, u := range n.w.utxos {
		if u.coinbase && u.height > 0 && tip+1-u.height < n.w.maturity && u.height > best {
			op, value, ok, best = o, u.value, true, u.height
		}
	}
	return op, value, ok, nil
}

// spendImmatureCoinbase builds and signs (without broadcasting) a
// transaction spending the newest immature coinbase output of the harness
// to pkScript, less fee, so tests can provoke an immature-coinbase
// rejection.
func (n *Node) spendImmatureCoinbase(pkScript []byte) (*wire.MsgTx, error) {
	op, value, ok, err := n.immatureCoinbase()
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: no immature coinbase output; mine a block first", ErrInsufficientFunds)
	}
	tx := wire.NewMsgTx(2)
	tx.AddTxIn(wire.NewTxIn(&op, nil, nil))
	tx.AddTxOut(wire.NewTxOut(0, pkScript))
	tx.TxOut[0].Value = value - estimateFee(tx)
	prev := map[wire.OutPoint]*wire.TxOut{op: wire.NewTxOut(value, n.w.pkScript)}
	if err := n.w.sign(tx, prev); err != nil {
		return nil, err
	}
	return tx, nil
}

// keyHex returns the harness key as hex (for the state file of a detached
// node only; never logged).
func (w *wallet) keyHex() string { return hex.EncodeToString(w.key.Serialize()) }
