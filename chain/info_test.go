package chain

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/btcsuite/btcd/chaincfg/v2"
)

// TestInfoBitcoind: Bitcoin Core's answers (getnetworkinfo, getindexinfo,
// pruning fields) as Info reads them.
func TestInfoBitcoind(t *testing.T) {
	for _, c2 := range []struct {
		name  string
		index any // getindexinfo's result
		want  TxIndexState
	}{
		{"index", map[string]any{"txindex": map[string]any{"synced": true, "best_block_height": 20}}, TxIndexOn},
		{"index building", map[string]any{"txindex": map[string]any{"synced": false, "best_block_height": 3}}, TxIndexSyncing},
		{"no index", map[string]any{"basic block filter index": map[string]any{"synced": true}}, TxIndexOff},
	} {
		t.Run(c2.name, func(t *testing.T) {
			f := newFakeChain(t, 20)
			f.name = "regtest"
			s := fakeNode(t, f, map[string]func([]json.RawMessage) answer{
				"getnetworkinfo": func([]json.RawMessage) answer {
					return ok(map[string]any{"version": 270100, "subversion": "/Satoshi:27.1.0/", "protocolversion": 70016})
				},
				"getindexinfo": func([]json.RawMessage) answer { return ok(c2.index) },
			})
			info, err := s.client(t).Info(ctxT(t))
			if err != nil {
				t.Fatal(err)
			}
			if info.Chain != "regtest" || info.Network != "regtest" || info.Genesis != *chaincfg.RegressionNetParams.GenesisHash ||
				info.Blocks != 20 || info.BestBlock != f.main[20].BlockHash() || info.Implementation != ImplBitcoind ||
				info.Version != "27.1.0" || info.VersionNumber != 270100 || info.Subversion != "/Satoshi:27.1.0/" ||
				info.TxIndex != c2.want || info.Pruned {
				t.Fatalf("%+v", info)
			}
			if s.called("getinfo") != 0 || s.called("getblock") != 0 {
				t.Fatalf("bitcoind was asked btcd's questions")
			}
		})
	}
	// A pruned node says so, with the lowest block it keeps.
	s := newStandIn(t, map[string]func([]json.RawMessage) answer{
		"getblockchaininfo": func([]json.RawMessage) answer {
			return ok(map[string]any{"chain": "main", "blocks": 900_000, "headers": 900_010, "bestblockhash": hashOf(9), "pruned": true, "pruneheight": 850_000})
		},
		"getblockhash": func([]json.RawMessage) answer { return ok(chaincfg.MainNetParams.GenesisHash.String()) },
		"getnetworkinfo": func([]json.RawMessage) answer {
			return ok(map[string]any{"version": 290000, "subversion": "/Satoshi:29.0.0/"})
		},
		"getindexinfo": func([]json.RawMessage) answer { return ok(map[string]any{}) },
	})
	info, err := s.client(t).Info(ctxT(t))
	if err != nil || !info.Pruned || info.PruneHeight != 850_000 || info.Headers != 900_010 || info.Network != "mainnet" ||
		info.Version != "29.0.0" || info.TxIndex != TxIndexOff {
		t.Fatalf("pruned: %+v, %v", info, err)
	}
}

// TestInfoBtcd: btcd has neither getnetworkinfo ("Command unimplemented")
// nor getindexinfo; its version comes from getinfo and its index from
// asking for block 1's coinbase by id.
func TestInfoBtcd(t *testing.T) {
	btcdCalls := map[string]func([]json.RawMessage) answer{
		"getnetworkinfo": func([]json.RawMessage) answer { return fail(-1, "Command unimplemented") },
		"getinfo": func([]json.RawMessage) answer {
			return ok(map[string]any{"version": 260200, "protocolversion": 70016, "blocks": 20})
		},
	}
	for _, index := range []bool{true, false} {
		f := newFakeChain(t, 20)
		f.index = index
		s := fakeNode(t, f, btcdCalls)
		c := s.client(t)
		info, err := c.Info(ctxT(t))
		want := map[bool]TxIndexState{true: TxIndexOn, false: TxIndexOff}[index]
		if err != nil || info.Implementation != ImplBtcd || info.Version != "0.26.2" || info.VersionNumber != 260200 ||
			info.Subversion != "" || info.TxIndex != want {
			t.Fatalf("index %v: %+v, %v", index, info, err)
		}
		// The answer is kept: asking again costs no call.
		calls := s.called("getrawtransaction")
		if ix, err := c.TxIndex(ctxT(t)); ix != want || err != nil || s.called("getrawtransaction") != calls {
			t.Fatalf("index %v again: %v, %v", index, ix, err)
		}
	}
	// A node with only the genesis block cannot be asked.
	f := newFakeChain(t, 0)
	info, err := fakeNode(t, f, btcdCalls).client(t).Info(ctxT(t))
	if err != nil || info.TxIndex != TxIndexUnknown || info.TxIndex.String() != "unknown" {
		t.Fatalf("no blocks: %+v, %v", info, err)
	}
	// A node that answers neither version call: unknown, not an error.
	f = newFakeChain(t, 3)
	info, err = fakeNode(t, f, nil).client(t).Info(ctxT(t))
	if err != nil || info.Implementation != "" || info.Version != "" {
		t.Fatalf("no version: %+v, %v", info, err)
	}
	// A transport failure is not taken for a missing call.
	bad, _ := New(Config{URL: fakeNode(t, f, nil).srv.URL, User: "u", Pass: "nope"})
	if _, err := bad.Info(ctxT(t)); !errors.Is(err, ErrAuth) {
		t.Fatalf("wrong credentials: %v", err)
	}
}

func TestVersionSpelling(t *testing.T) {
	for n, want := range map[int64]string{270100: "27.1.0", 290000: "29.0.0", 200000: "20.0.0", 0: ""} {
		if got := bitcoindVersion(n); got != want {
			t.Errorf("bitcoind %d: %q, want %q", n, got, want)
		}
	}
	for n, want := range map[int64]string{260200: "0.26.2", 240200: "0.24.2", 1000000: "1.0.0", -5: ""} {
		if got := btcdVersion(n); got != want {
			t.Errorf("btcd %d: %q, want %q", n, got, want)
		}
	}
	for s, want := range map[TxIndexState]string{TxIndexOn: "on", TxIndexOff: "off", TxIndexSyncing: "syncing", TxIndexUnknown: "unknown"} {
		if s.String() != want {
			t.Errorf("%d: %q", s, s.String())
		}
	}
}
