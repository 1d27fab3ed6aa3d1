package chain

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/internal/rpc"
)

// TxInfo is a transaction and where it is.
type TxInfo struct {
	Tx   *wire.MsgTx
	Txid chainhash.Hash
	// Confirmations is 0 while the transaction waits in the mempool.
	Confirmations int64
	// Height and Block locate the confirming block; Height is -1 and Block
	// zero while the transaction waits in the mempool.
	Height int64
	Block  chainhash.Hash
}

// Confirmed reports whether the transaction is in a block.
func (t *TxInfo) Confirmed() bool { return t.Height >= 0 }

func decodeTxHex(s, what string) (*wire.MsgTx, error) {
	raw, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: bad transaction hex", ErrBadReply, what)
	}
	tx := new(wire.MsgTx)
	if err := tx.Deserialize(bytes.NewReader(raw)); err != nil {
		return nil, fmt.Errorf("%w: %s: undecodable transaction: %v", ErrBadReply, what, err)
	}
	return tx, nil
}

// Transaction looks a transaction up by id: in the mempool, or in the
// chain when the node keeps a transaction index (btcd --txindex, bitcoind
// -txindex). Without the index a confirmed transaction is ErrNotFound;
// TransactionInBlock and Locate find it anyway. The node's answer is
// checked: the transaction must hash to txid and, when the node says it is
// confirmed, the block it names must hold it (checkConfirmedIn).
func (c *Client) Transaction(ctx context.Context, txid chainhash.Hash) (*TxInfo, error) {
	tx, block, err := c.rawTransaction(ctx, txid)
	if err != nil {
		return nil, err
	}
	info := &TxInfo{Tx: tx, Txid: txid, Height: -1}
	if block == (chainhash.Hash{}) {
		return info, nil
	}
	b, err := c.blockTxids(ctx, block)
	if err != nil {
		return nil, err
	}
	if err := c.checkConfirmedIn(ctx, b, txid); err != nil {
		return nil, err
	}
	info.Block, info.Height, info.Confirmations = block, b.Height, b.Confirmations
	return info, nil
}

// rawTransaction asks the node for transaction txid (getrawtransaction,
// verbose) and returns it with the block the node says confirms it, zero
// while it waits in the mempool. Only the transaction is checked here.
func (c *Client) rawTransaction(ctx context.Context, txid chainhash.Hash) (*wire.MsgTx, chainhash.Hash, error) {
	res, err := c.call(ctx, "getrawtransaction", txid.String(), 1)
	if err != nil {
		err = c.notFound("getrawtransaction", "transaction "+txid.String(), err)
		if errors.Is(err, ErrNotFound) {
			err = fmt.Errorf("%w (a node without -txindex finds only mempool transactions by id)", err)
		}
		return nil, chainhash.Hash{}, err
	}
	return parseRawTransaction(res, txid)
}

// parseRawTransaction reads getrawtransaction's verbose reply for txid:
// the transaction, which must hash to txid, and the block named when the
// reply counts confirmations (zero otherwise).
func parseRawTransaction(res json.RawMessage, txid chainhash.Hash) (*wire.MsgTx, chainhash.Hash, error) {
	var v struct {
		Hex           string `json:"hex"`
		Confirmations int64  `json:"confirmations"`
		BlockHash     string `json:"blockhash"`
	}
	if err := decode(res, &v, "getrawtransaction"); err != nil {
		return nil, chainhash.Hash{}, err
	}
	tx, err := decodeTxHex(v.Hex, "getrawtransaction "+txid.String())
	if err != nil {
		return nil, chainhash.Hash{}, err
	}
	if tx.TxHash() != txid {
		return nil, chainhash.Hash{}, fmt.Errorf("%w: getrawtransaction %s returned transaction %s", ErrBadReply, txid, tx.TxHash())
	}
	if v.BlockHash == "" || v.Confirmations <= 0 {
		return tx, chainhash.Hash{}, nil
	}
	block, err := parseHash(v.BlockHash, "getrawtransaction")
	if err != nil {
		return nil, chainhash.Hash{}, err
	}
	return tx, block, nil
}

// checkConfirmedIn checks the node's word that transaction txid is
// confirmed in block b: b's transaction ids, hashing to its header's Merkle
// root, hold txid (commitsTo), b is on the main chain (it counts
// confirmations: a block the node says is off it, or unconfirmed, cannot
// confirm the transaction, a contradiction also seen when a
// reorganisation falls between the two calls), and the node's main-chain
// block at b's height is b.
func (c *Client) checkConfirmedIn(ctx context.Context, b *blockSummary, txid chainhash.Hash) error {
	if err := b.commitsTo(txid); err != nil {
		return err
	}
	if b.Confirmations <= 0 {
		return fmt.Errorf("%w: transaction %s is said to be confirmed in block %s, which the node says has %d confirmations (off the main chain)",
			ErrBadReply, txid, b.Hash, b.Confirmations)
	}
	return c.checkHeight(ctx, b.Hash, b.Height)
}

// checkHeight checks the node's word that block hash is the main-chain
// block at height: its getblockhash there must name hash.
func (c *Client) checkHeight(ctx context.Context, hash chainhash.Hash, height int64) error {
	at, err := c.BlockHash(ctx, height)
	if err != nil {
		return err
	}
	if at != hash {
		return fmt.Errorf("%w: the node places block %s at height %d, where its main chain has block %s", ErrBadReply, hash, height, at)
	}
	return nil
}

// TransactionInBlock finds a transaction in a given block, which needs no
// transaction index on the node (a block hint, such as the height a
// watcher saw it at).
func (c *Client) TransactionInBlock(ctx context.Context, txid, block chainhash.Hash) (*TxInfo, error) {
	b, err := c.Block(ctx, block)
	if err != nil {
		return nil, err
	}
	for _, tx := range b.Transactions {
		if tx.TxHash() == txid {
			hdr, err := c.BlockHeader(ctx, block)
			if err != nil {
				return nil, err
			}
			if hdr.Confirmations > 0 {
				if err := c.checkHeight(ctx, block, hdr.Height); err != nil {
					return nil, err
				}
			}
			return &TxInfo{Tx: tx, Txid: txid, Confirmations: hdr.Confirmations, Height: hdr.Height, Block: block}, nil
		}
	}
	return nil, fmt.Errorf("%w: transaction %s is not in block %s", ErrNotFound, txid, block)
}

// Locate finds where a transaction the caller already has is: it asks by
// id first (mempool, or -txindex), then, for a node without a transaction
// index, reads the confirmations of its unspent outputs (gettxout). It is
// ErrNotFound when the node knows nothing of it, or it is confirmed, the
// node keeps no index and every output is spent.
func (c *Client) Locate(ctx context.Context, tx *wire.MsgTx) (*TxInfo, error) {
	if tx == nil {
		return nil, fmt.Errorf("%w: nil transaction", ErrInvalidArgument)
	}
	txid := tx.TxHash()
	info, err := c.Transaction(ctx, txid)
	if !errors.Is(err, ErrNotFound) {
		return info, err
	}
	for i, out := range tx.TxOut {
		if txscript.IsUnspendable(out.PkScript) {
			continue
		}
		op := wire.OutPoint{Hash: txid, Index: uint32(i)}
		o, err := c.gettxout(ctx, op)
		if err != nil {
			return nil, err
		}
		if o == nil {
			continue
		}
		// The node's output must be the transaction's.
		if script, err := hex.DecodeString(o.ScriptPubKey.Hex); err != nil || !bytes.Equal(script, out.PkScript) {
			return nil, fmt.Errorf("%w: gettxout %s: the node's output script is not the transaction's", ErrBadReply, op)
		}
		if value, err := btcToSat(o.Value); err != nil || value != out.Value {
			return nil, fmt.Errorf("%w: gettxout %s: the node's output value %v BTC is not the transaction's %d sat", ErrBadReply, op, o.Value, out.Value)
		}
		located := &TxInfo{Tx: tx, Txid: txid, Height: -1}
		if o.Confirmations <= 0 {
			return located, nil
		}
		best, err := parseHash(o.BestBlock, "gettxout")
		if err != nil {
			return nil, err
		}
		hdr, err := c.BlockHeader(ctx, best)
		if err != nil {
			return nil, err
		}
		if o.Confirmations > hdr.Height+1 {
			return nil, fmt.Errorf("%w: gettxout %s: %d confirmations below a tip at height %d", ErrBadReply, op, o.Confirmations, hdr.Height)
		}
		located.Height = hdr.Height - o.Confirmations + 1
		located.Confirmations = o.Confirmations
		if located.Block, err = c.BlockHash(ctx, located.Height); err != nil {
			return nil, err
		}
		// The block the confirmations point at must hold the transaction.
		b, err := c.blockTxids(ctx, located.Block)
		if err != nil {
			return nil, err
		}
		if b.Height != located.Height {
			return nil, fmt.Errorf("%w: getblock %s says height %d, getblockhash gave it for height %d", ErrBadReply, located.Block, b.Height, located.Height)
		}
		if err := b.commitsTo(txid); err != nil {
			return nil, err
		}
		return located, nil
	}
	return nil, fmt.Errorf("%w: transaction %s: not in the mempool, and no unspent output of it is known (a node without -txindex cannot find a spent transaction by id)", ErrNotFound, txid)
}

// TxOut is an unspent output as the node sees it.
type TxOut struct {
	Value    int64 // satoshis
	PkScript []byte
	// Confirmations is 0 for an output of a mempool transaction.
	Confirmations int64
	Coinbase      bool
}

type txOutReply struct {
	BestBlock     string  `json:"bestblock"`
	Confirmations int64   `json:"confirmations"`
	Value         float64 `json:"value"`
	Coinbase      bool    `json:"coinbase"`
	ScriptPubKey  struct {
		Hex string `json:"hex"`
	} `json:"scriptPubKey"`
}

// gettxout returns the node's view of op (mempool included), nil when it
// is spent or unknown.
func (c *Client) gettxout(ctx context.Context, op wire.OutPoint) (*txOutReply, error) {
	res, err := c.call(ctx, "gettxout", op.Hash.String(), op.Index, true)
	if err != nil {
		return nil, c.notFound("gettxout", "output "+op.String(), err)
	}
	if len(res) == 0 || string(res) == "null" {
		return nil, nil
	}
	var v txOutReply
	if err := decode(res, &v, "gettxout"); err != nil {
		return nil, err
	}
	return &v, nil
}

// TxOut returns an unspent output, counting the mempool: an output that a
// mempool transaction spends, or that is spent or unknown, is ErrNotFound.
// (btcd's gettxout overlooks mempool spends of confirmed outputs, so the
// mempool is asked as well.)
func (c *Client) TxOut(ctx context.Context, op wire.OutPoint) (*TxOut, error) {
	v, err := c.gettxout(ctx, op)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, fmt.Errorf("%w: output %s is spent or unknown", ErrNotFound, op)
	}
	script, err := hex.DecodeString(v.ScriptPubKey.Hex)
	if err != nil {
		return nil, fmt.Errorf("%w: gettxout: bad script hex", ErrBadReply)
	}
	value, err := btcToSat(v.Value)
	if err != nil {
		return nil, err
	}
	spender, ok, err := c.MempoolSpender(ctx, op)
	if err != nil {
		return nil, err
	}
	if ok {
		return nil, fmt.Errorf("%w: output %s is spent by mempool transaction %s", ErrNotFound, op, spender)
	}
	return &TxOut{Value: value, PkScript: script, Confirmations: v.Confirmations, Coinbase: v.Coinbase}, nil
}

// btcToSat converts a BTC amount as the nodes print it (at most 8
// decimals) to satoshis.
func btcToSat(v float64) (int64, error) {
	if math.IsNaN(v) || v < 0 || v > 21e6 {
		return 0, fmt.Errorf("%w: amount %v BTC", ErrBadReply, v)
	}
	return int64(math.Round(v * 1e8)), nil
}

// MempoolTxids returns the ids of the transactions in the mempool.
func (c *Client) MempoolTxids(ctx context.Context) ([]chainhash.Hash, error) {
	var strs []string
	if err := c.into(ctx, &strs, "getrawmempool"); err != nil {
		return nil, err
	}
	out := make([]chainhash.Hash, 0, len(strs))
	for _, s := range strs {
		h, err := parseHash(s, "getrawmempool")
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, nil
}

// MempoolSpender returns the id of the mempool transaction spending op
// (gettxspendingprevout; on a node without that call, by reading every
// mempool transaction).
func (c *Client) MempoolSpender(ctx context.Context, op wire.OutPoint) (chainhash.Hash, bool, error) {
	var res []struct {
		Txid         string `json:"txid"`
		Vout         uint32 `json:"vout"`
		SpendingTxid string `json:"spendingtxid"`
	}
	arg := []map[string]any{{"txid": op.Hash.String(), "vout": op.Index}}
	raw, err := c.call(ctx, "gettxspendingprevout", arg)
	var re *rpc.Error
	if errors.As(err, &re) && re.Code == codeMethodNotFound {
		sp, err := c.scanMempool(ctx, op)
		if err != nil || sp == nil {
			return chainhash.Hash{}, false, err
		}
		return sp.Txid, true, nil
	}
	if err != nil {
		return chainhash.Hash{}, false, c.callError("gettxspendingprevout", err)
	}
	if err := decode(raw, &res, "gettxspendingprevout"); err != nil {
		return chainhash.Hash{}, false, err
	}
	if len(res) != 1 {
		return chainhash.Hash{}, false, fmt.Errorf("%w: gettxspendingprevout: %d results for one outpoint", ErrBadReply, len(res))
	}
	if res[0].Txid != op.Hash.String() || res[0].Vout != op.Index {
		return chainhash.Hash{}, false, fmt.Errorf("%w: gettxspendingprevout %s answered for output %s:%d", ErrBadReply, op, res[0].Txid, res[0].Vout)
	}
	if res[0].SpendingTxid == "" {
		return chainhash.Hash{}, false, nil
	}
	h, err := parseHash(res[0].SpendingTxid, "gettxspendingprevout")
	return h, err == nil, err
}

// scanMempool reads every mempool transaction looking for a spend of op.
func (c *Client) scanMempool(ctx context.Context, op wire.OutPoint) (*Spend, error) {
	ids, err := c.MempoolTxids(ctx)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		info, err := c.Transaction(ctx, id)
		if errors.Is(err, ErrNotFound) {
			continue // mined or evicted meanwhile
		}
		if err != nil {
			return nil, err
		}
		if i := spendingInput(info.Tx, op); i >= 0 {
			return &Spend{Tx: info.Tx, Txid: id, Input: i, Height: -1}, nil
		}
	}
	return nil, nil
}

// serializeTx returns the transaction's hex (with witnesses).
func serializeTx(tx *wire.MsgTx) (string, error) {
	if tx == nil {
		return "", fmt.Errorf("%w: nil transaction", ErrInvalidArgument)
	}
	var buf bytes.Buffer
	if err := tx.Serialize(&buf); err != nil {
		return "", fmt.Errorf("%w: serializing transaction: %v", ErrInvalidArgument, err)
	}
	return hex.EncodeToString(buf.Bytes()), nil
}

// rejectError turns the error of a transaction call into a *RejectError
// when the node refused the transaction (rather than the call).
func (c *Client) rejectError(method string, err error) error {
	var re *rpc.Error
	if errors.As(err, &re) && isTxRejectCode(re.Code) {
		return &RejectError{Kind: classifyRejectCode(re.Code, re.Message), Reason: re.Message, Code: re.Code}
	}
	return c.callError(method, err)
}

// Broadcast submits tx (sendrawtransaction) and returns its txid. A
// refusal is a *RejectError (errors.Is with ErrRejected and the kind).
// Submitting a transaction the mempool already holds succeeds again, on
// btcd as on bitcoind; one already confirmed is ErrAlreadyKnown.
func (c *Client) Broadcast(ctx context.Context, tx *wire.MsgTx) (chainhash.Hash, error) {
	raw, err := serializeTx(tx)
	if err != nil {
		return chainhash.Hash{}, err
	}
	res, err := c.call(ctx, "sendrawtransaction", raw)
	if err != nil {
		err = c.rejectError("sendrawtransaction", err)
		var rej *RejectError
		if errors.As(err, &rej) && rej.Kind == ErrAlreadyKnown && inMempoolText(rej.Reason) {
			return tx.TxHash(), nil
		}
		return chainhash.Hash{}, err
	}
	var s string
	if err := decode(res, &s, "sendrawtransaction"); err != nil {
		return chainhash.Hash{}, err
	}
	txid, err := parseHash(s, "sendrawtransaction")
	if err != nil {
		return chainhash.Hash{}, err
	}
	if want := tx.TxHash(); txid != want {
		return chainhash.Hash{}, fmt.Errorf("%w: sendrawtransaction of %s answered txid %s", ErrBadReply, want, txid)
	}
	return txid, nil
}

// inMempoolText reports whether a reject text says the very transaction is
// already in the mempool.
func inMempoolText(reason string) bool {
	r := strings.ToLower(reason)
	return strings.Contains(r, "already have transaction") || strings.Contains(r, "txn-already-in-mempool")
}

// DefaultMaxFeeRate is the fee-rate ceiling TestMempoolAccept passes, in
// BTC/kvB: 0.1, both nodes' default (btcd wants it spelled out).
const DefaultMaxFeeRate = 0.1

// TestMempoolAccept asks the node whether it would accept tx now, without
// broadcasting it. nil means accepted; a refusal is a *RejectError.
func (c *Client) TestMempoolAccept(ctx context.Context, tx *wire.MsgTx) error {
	raw, err := serializeTx(tx)
	if err != nil {
		return err
	}
	res, err := c.call(ctx, "testmempoolaccept", []string{raw}, DefaultMaxFeeRate)
	if err != nil {
		return c.rejectError("testmempoolaccept", err)
	}
	var items []struct {
		Txid         string `json:"txid"`
		Allowed      bool   `json:"allowed"`
		RejectReason string `json:"reject-reason"`
	}
	if err := json.Unmarshal(res, &items); err != nil || len(items) != 1 {
		return fmt.Errorf("%w: testmempoolaccept: expected one verdict", ErrBadReply)
	}
	if want := tx.TxHash().String(); items[0].Txid != want {
		return fmt.Errorf("%w: testmempoolaccept of %s answered for transaction %q", ErrBadReply, want, items[0].Txid)
	}
	if !items[0].Allowed {
		return &RejectError{Kind: ClassifyReject(items[0].RejectReason), Reason: items[0].RejectReason}
	}
	return nil
}
