package chain

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/btcsuite/btcd/chainhash/v2"

	"github.com/btcstake/btcstake/internal/rpc"
)

// TxIndexState says whether a node keeps a transaction index (btcd
// --txindex, bitcoind -txindex), which lets it find a confirmed
// transaction by id.
type TxIndexState int

const (
	// TxIndexUnknown: the node could not be asked (a btcd node with no
	// block after the genesis block, or a pruned btcd that has discarded
	// block 1 and says nothing).
	TxIndexUnknown TxIndexState = iota
	// TxIndexOff: no index; confirmed transactions are found by reading
	// blocks (Locate, FindTransaction, FindSpend).
	TxIndexOff
	// TxIndexOn: the index is built up to the tip.
	TxIndexOn
	// TxIndexSyncing: bitcoind is still building the index; until it has
	// caught up, lookups by id miss transactions of later blocks.
	TxIndexSyncing
)

func (s TxIndexState) String() string {
	switch s {
	case TxIndexOff:
		return "off"
	case TxIndexOn:
		return "on"
	case TxIndexSyncing:
		return "syncing"
	}
	return "unknown"
}

// Node implementations Info tells apart.
const (
	ImplBitcoind = "bitcoind" // Bitcoin Core and its derivatives (user agent "/Satoshi:...")
	ImplBtcd     = "btcd"
)

// NodeInfo is what a node says about itself: its chain, tip, software and
// indexes.
type NodeInfo struct {
	ChainInfo
	// Genesis is the hash of the node's block 0.
	Genesis chainhash.Hash
	// Implementation is ImplBitcoind, ImplBtcd, or "" when the node does not
	// say. Version is its version as x.y.z ("27.1.0", "0.26.2"), "" when
	// unknown; VersionNumber the number the node reports (bitcoind
	// getnetworkinfo's version, 270100; btcd getinfo's, 260200).
	Implementation string
	Version        string
	VersionNumber  int64
	// Subversion is the node's user agent (bitcoind's getnetworkinfo
	// subversion, "/Satoshi:27.1.0/"); btcd reports none.
	Subversion string
	// TxIndex says whether the node finds confirmed transactions by id.
	TxIndex TxIndexState
}

// Info asks the node about its chain (getblockchaininfo, getblockhash 0),
// its software (getnetworkinfo; btcd, which lacks it, getinfo) and its
// transaction index (see TxIndex). It checks nothing: CheckNetwork does.
func (c *Client) Info(ctx context.Context) (NodeInfo, error) {
	ci, err := c.ChainInfo(ctx)
	if err != nil {
		return NodeInfo{}, err
	}
	info := NodeInfo{ChainInfo: ci}
	if info.Genesis, err = c.BlockHash(ctx, 0); err != nil {
		return NodeInfo{}, err
	}
	if err := c.software(ctx, &info); err != nil {
		return NodeInfo{}, err
	}
	if info.TxIndex, err = c.txIndexFor(ctx, &ci); err != nil {
		return NodeInfo{}, err
	}
	return info, nil
}

// isRPCError reports whether err is an error object of the node (the call
// was answered: an unknown or unimplemented method), not a transport
// failure.
func isRPCError(err error) bool {
	var re *rpc.Error
	return errors.As(err, &re)
}

// software fills in the node's implementation and version.
func (c *Client) software(ctx context.Context, info *NodeInfo) error {
	var ni struct {
		Version    int64  `json:"version"`
		Subversion string `json:"subversion"`
	}
	res, err := c.call(ctx, "getnetworkinfo")
	switch {
	case err == nil:
		if err := decode(res, &ni, "getnetworkinfo"); err != nil {
			return err
		}
		info.VersionNumber, info.Subversion = ni.Version, ni.Subversion
		if strings.Contains(ni.Subversion, "/Satoshi:") {
			info.Implementation = ImplBitcoind
			info.Version = bitcoindVersion(ni.Version)
		}
		return nil
	case !isRPCError(err):
		return c.callError("getnetworkinfo", err)
	}
	// btcd answers getnetworkinfo "Command unimplemented" and keeps
	// getinfo, which Bitcoin Core removed in 0.16.
	var gi struct {
		Version int64 `json:"version"`
	}
	res, err = c.call(ctx, "getinfo")
	switch {
	case err == nil:
		if err := decode(res, &gi, "getinfo"); err != nil {
			return err
		}
		info.Implementation, info.VersionNumber, info.Version = ImplBtcd, gi.Version, btcdVersion(gi.Version)
		return nil
	case !isRPCError(err):
		return c.callError("getinfo", err)
	}
	return nil // a node that says neither: the version stays unknown
}

// bitcoindVersion spells Bitcoin Core's version number (10000*major +
// 100*minor + patch since 0.x became x.0: 270100 is 27.1.0).
func bitcoindVersion(n int64) string {
	if n <= 0 {
		return ""
	}
	return fmt.Sprintf("%d.%d.%d", n/10000, n/100%100, n%100)
}

// btcdVersion spells btcd's version number (1000000*major +
// 10000*minor + 100*patch: 260200 is 0.26.2).
func btcdVersion(n int64) string {
	if n <= 0 {
		return ""
	}
	return fmt.Sprintf("%d.%d.%d", n/1000000, n/10000%100, n/100%100)
}

// TxIndex says whether the node keeps a transaction index. bitcoind says so
// (getindexinfo); btcd, which lacks that call, is asked for the coinbase
// transaction of block 1 by id, which only an index finds (the genesis
// coinbase is found by no node). A definite answer is remembered by the
// client.
func (c *Client) TxIndex(ctx context.Context) (TxIndexState, error) {
	c.mu.Lock()
	known := c.txIndex
	c.mu.Unlock()
	if known == TxIndexOn || known == TxIndexOff {
		return known, nil
	}
	return c.txIndexFor(ctx, nil)
}

// txIndexFor probes the index; ci, when known, is the node's chain.
func (c *Client) txIndexFor(ctx context.Context, ci *ChainInfo) (TxIndexState, error) {
	s, err := c.probeTxIndex(ctx, ci)
	if err != nil {
		return TxIndexUnknown, err
	}
	if s == TxIndexOn || s == TxIndexOff {
		c.mu.Lock()
		c.txIndex = s
		c.mu.Unlock()
	}
	return s, nil
}

func (c *Client) probeTxIndex(ctx context.Context, ci *ChainInfo) (TxIndexState, error) {
	res, err := c.call(ctx, "getindexinfo")
	if err == nil {
		var v map[string]struct {
			Synced bool `json:"synced"`
		}
		if err := decode(res, &v, "getindexinfo"); err != nil {
			return TxIndexUnknown, err
		}
		ix, ok := v["txindex"]
		switch {
		case !ok:
			return TxIndexOff, nil
		case ix.Synced:
			return TxIndexOn, nil
		}
		return TxIndexSyncing, nil
	}
	if !isRPCError(err) {
		return TxIndexUnknown, c.callError("getindexinfo", err)
	}
	// No getindexinfo: btcd (or a bitcoind before 0.21).
	if ci == nil {
		info, err := c.ChainInfo(ctx)
		if err != nil {
			return TxIndexUnknown, err
		}
		ci = &info
	}
	if ci.Blocks < 1 {
		return TxIndexUnknown, nil
	}
	h1, err := c.BlockHash(ctx, 1)
	if err != nil {
		return TxIndexUnknown, err
	}
	b, err := c.blockTxids(ctx, h1)
	if errors.Is(err, ErrNotFound) && ci.Pruned {
		return TxIndexOff, nil // pruned nodes keep no index (neither node allows both)
	}
	if err != nil {
		return TxIndexUnknown, err
	}
	if len(b.Txids) == 0 {
		return TxIndexUnknown, fmt.Errorf("%w: getblock %s: a block without transactions", ErrBadReply, h1)
	}
	// Whether the node finds it is all that is asked; its block is not read.
	_, _, err = c.rawTransaction(ctx, b.Txids[0])
	switch {
	case err == nil:
		return TxIndexOn, nil
	case errors.Is(err, ErrNotFound):
		return TxIndexOff, nil
	}
	return TxIndexUnknown, err
}
