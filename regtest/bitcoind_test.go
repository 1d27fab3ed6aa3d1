package regtest

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/chain"
)

// bitcoind cannot be installed on the machine these tests were written on,
// so the bitcoind-specific code paths are checked against a stand-in that
// answers with Bitcoin Core's documented request shapes, reply formats,
// error codes and reject texts. The btcd tests run the real node.

type fakeCore struct {
	t      *testing.T
	mu     sync.Mutex
	height int
	calls  []string
	addr   string
}

func (f *fakeCore) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	user, pass, ok := r.BasicAuth()
	if !ok || user != "u" || pass != "p" {
		w.WriteHeader(http.StatusUnauthorized) // Core: 401 with an empty body
		return
	}
	var req struct {
		Method string            `json:"method"`
		Params []json.RawMessage `json:"params"`
		ID     any               `json:"id"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		f.t.Errorf("bad request: %v", err)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, req.Method)
	reply := func(result any, code int, msg string) {
		resp := map[string]any{"id": req.ID, "result": result, "error": nil}
		if code != 0 {
			resp["result"] = nil
			resp["error"] = map[string]any{"code": code, "message": msg}
			w.WriteHeader(http.StatusInternalServerError) // Core's JSON-RPC 1.0 errors
		}
		_ = json.NewEncoder(w).Encode(resp)
	}
	switch req.Method {
	case "getblockcount":
		reply(f.height, 0, "")
	case "generatetoaddress":
		var count int
		var addr string
		_ = json.Unmarshal(req.Params[0], &count)
		_ = json.Unmarshal(req.Params[1], &addr)
		if addr != f.addr {
			reply(nil, -5, "Error: Invalid address")
			return
		}
		hashes := make([]string, count)
		for i := range hashes {
			f.height++
			hashes[i] = fmt.Sprintf("%064x", f.height)
		}
		reply(hashes, 0, "")
	case "sendrawtransaction":
		var raw string
		_ = json.Unmarshal(req.Params[0], &raw)
		switch {
		case strings.HasPrefix(raw, "02000000"):
			reply(nil, -26, "min relay fee not met, 0 < 110")
		default:
			reply(nil, -27, "Transaction outputs already in utxo set")
		}
	case "testmempoolaccept":
		if len(req.Params) != 2 {
			reply(nil, -1, "wrong params")
			return
		}
		var raws []string
		_ = json.Unmarshal(req.Params[0], &raws)
		tx := new(wire.MsgTx)
		raw, _ := hex.DecodeString(strings.Join(raws, ""))
		if len(raws) != 1 || tx.Deserialize(bytes.NewReader(raw)) != nil {
			reply(nil, -22, "TX decode failed")
			return
		}
		reply([]map[string]any{{"txid": tx.TxHash().String(), "wtxid": tx.WitnessHash().String(), "allowed": false, "reject-reason": "non-BIP68-final"}}, 0, "")
	case "getrawtransaction":
		reply(nil, -5, "No such mempool or blockchain transaction. Use gettransaction for wallet transactions.")
	case "getblockhash":
		reply(nil, -8, "Block height out of range")
	case "getindexinfo": // the harness starts bitcoind with -txindex
		reply(map[string]any{"txindex": map[string]any{"synced": true, "best_block_height": f.height}}, 0, "")
	case "gettxout":
		reply(nil, 0, "")
	default:
		reply(nil, -32601, "Method not found")
	}
}

func TestBitcoindProtocol(t *testing.T) {
	w, err := newWallet(&chaincfg.RegressionNetParams)
	if err != nil {
		t.Fatal(err)
	}
	core := &fakeCore{t: t, addr: w.addr}
	srv := httptest.NewServer(core)
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	c, err := newChainClient(RPCInfo{Host: host, User: "u", Pass: "p"})
	if err != nil {
		t.Fatal(err)
	}
	n := &Node{kind: Bitcoind, params: &chaincfg.RegressionNetParams, w: w, c: c}

	hashes, err := n.Mine(3)
	if err != nil || len(hashes) != 3 {
		t.Fatalf("Mine on bitcoind: %v, %v", hashes, err)
	}
	if core.calls[0] != "generatetoaddress" {
		t.Fatalf("Mine called %v, want generatetoaddress", core.calls)
	}
	if h, err := n.Height(); err != nil || h != 3 {
		t.Fatalf("height %d, %v", h, err)
	}

	tx := wire.NewMsgTx(2)
	tx.AddTxIn(wire.NewTxIn(&wire.OutPoint{}, nil, nil))
	tx.AddTxOut(wire.NewTxOut(1000, []byte{0x51}))
	if _, err := n.Broadcast(tx); !errors.Is(err, ErrFeeTooLow) || !errors.Is(err, ErrFee) || !errors.Is(err, ErrRejected) {
		t.Fatalf("code -26 min relay fee: %v, want ErrFee", err)
	}
	tx.Version = 1
	if _, err := n.Broadcast(tx); !errors.Is(err, ErrAlreadyKnown) {
		t.Fatalf("code -27: %v, want ErrAlreadyKnown", err)
	}
	if err := n.TestMempoolAccept(tx); !errors.Is(err, ErrSequenceLock) {
		t.Fatalf("testmempoolaccept reject-reason: %v, want ErrSequenceLock", err)
	}
	if _, err := n.GetRawTransaction(chainhash.Hash{1}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("getrawtransaction -5: %v", err)
	}
	if _, err := n.GetBlockHash(99); !errors.Is(err, ErrNotFound) {
		t.Fatalf("getblockhash -8: %v", err)
	}
	if _, err := n.GetTxOut(wire.OutPoint{}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("gettxout null: %v", err)
	}
	// A method error is ErrRPC, not a rejection.
	if _, err := n.Call("nosuchmethod"); !errors.Is(err, ErrRPC) {
		t.Fatalf("unknown method: %v", err)
	}
	// Wrong credentials: Core answers 401 with no JSON.
	badc, err := newChainClient(RPCInfo{Host: host, User: "u", Pass: "wrong"})
	if err != nil {
		t.Fatal(err)
	}
	bad := &Node{kind: Bitcoind, w: w, c: badc}
	if _, err := bad.Height(); !errors.Is(err, ErrRPC) || !errors.Is(err, chain.ErrAuth) || !strings.Contains(err.Error(), "401") {
		t.Fatalf("401: %v", err)
	}
}

// TestNodeArgs: both nodes are told to stay on loopback and to enforce
// standardness; bitcoind must not accept non-standard transactions.
func TestNodeArgs(t *testing.T) {
	w, err := newWallet(&chaincfg.RegressionNetParams)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		kind Kind
		want []string
	}{
		{Btcd, []string{"--regtest", "--notls", "--rpclisten=127.0.0.1:18443", "--nolisten", "--txindex",
			"--miningaddr=" + w.addr, "--rejectnonstd", "--limitfreerelay=0", "--utxocachemaxsize=16"}},
		{Bitcoind, []string{"-regtest", "-rpcbind=127.0.0.1", "-rpcallowip=127.0.0.1", "-rpcport=18443",
			"-listen=0", "-txindex", "-acceptnonstdtxn=0", "-disablewallet"}},
	} {
		n := &Node{kind: c.kind, dir: "/d", confPath: "/d/node.conf", w: w, rpcInfo: RPCInfo{User: "rpc-user-7", Pass: "rpc-pass-secret-9"}}
		args := strings.Join(n.args(18443), " ")
		for _, want := range c.want {
			if !strings.Contains(" "+args+" ", " "+want+" ") {
				t.Errorf("%s args lack %s: %s", c.kind, want, args)
			}
		}
		// The credentials are in the config file, never on the command line.
		if strings.Contains(args, "rpc-pass-secret-9") || strings.Contains(args, "rpc-user-7") {
			t.Errorf("%s args carry the RPC credentials: %s", c.kind, args)
		}
		if !strings.Contains(args, "=/d/node.conf ") {
			t.Errorf("%s args do not name the config file: %s", c.kind, args)
		}
		if strings.Contains(args, "0.0.0.0") {
			t.Errorf("%s listens beyond loopback: %s", c.kind, args)
		}
	}
}
