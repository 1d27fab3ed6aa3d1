package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/regtest"
)

// fakeNodeServer is a JSON-RPC stand-in that reports chain and records the
// methods called; broadcasts are accepted, getrawtransaction hangs until
// the client gives up when hang is set.
type fakeNodeServer struct {
	mu      sync.Mutex
	chain   string
	genesis chainhash.Hash // its block 0: the regtest genesis unless changed
	// signetChallenge, when set, is reported by getblockchaininfo (hex).
	signetChallenge string
	hang            bool
	// lieTxid, when set, is the txid the method lieIn
	// (sendrawtransaction or testmempoolaccept) answers instead of the
	// transaction's own.
	lieTxid, lieIn string
	methods        []string
	srv            *httptest.Server
}

func newFakeNodeServer(t *testing.T, chainName string) *fakeNodeServer {
	f := &fakeNodeServer{chain: chainName, genesis: *chaincfg.RegressionNetParams.GenesisHash}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Method string            `json:"method"`
			Params []json.RawMessage `json:"params"`
			ID     any               `json:"id"`
		}
		body, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(body, &req)
		f.mu.Lock()
		f.methods = append(f.methods, req.Method)
		hang := f.hang
		f.mu.Unlock()
		var result any
		switch req.Method {
		case "getblockchaininfo":
			v := map[string]any{"chain": f.chain, "blocks": 200, "bestblockhash": strings.Repeat("0", 63) + "1"}
			f.mu.Lock()
			if f.signetChallenge != "" {
				v["signet_challenge"] = f.signetChallenge
			}
			f.mu.Unlock()
			result = v
		case "getblockhash": // only block 0 is asked for
			f.mu.Lock()
			result = f.genesis.String()
			f.mu.Unlock()
		case "testmempoolaccept":
			result = []any{map[string]any{"txid": f.sentTxid(t, req.Method, req.Params), "allowed": true}}
		case "sendrawtransaction":
			result = f.sentTxid(t, req.Method, req.Params)
		case "getrawtransaction":
			if hang {
				<-r.Context().Done()
				return
			}
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"id": req.ID, "result": result, "error": nil})
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// sentTxid is the txid of the transaction a broadcast call carries (hex,
// alone or in a list), or lieTxid when the call is lieIn.
func (f *fakeNodeServer) sentTxid(t *testing.T, method string, params []json.RawMessage) string {
	f.mu.Lock()
	lie, lieIn := f.lieTxid, f.lieIn
	f.mu.Unlock()
	if lie != "" && lieIn == method {
		return lie
	}
	var one string
	var list []string
	if len(params) == 0 || (json.Unmarshal(params[0], &one) != nil && json.Unmarshal(params[0], &list) != nil) {
		t.Errorf("a broadcast call without a transaction: %s", params)
		return ""
	}
	if len(list) == 1 {
		one = list[0]
	}
	tx, err := parseTxHex("tx", one)
	if err != nil {
		t.Errorf("a broadcast call with a bad transaction: %v", err)
		return ""
	}
	return tx.TxHash().String()
}

func (f *fakeNodeServer) calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.methods...)
}

func (f *fakeNodeServer) reset() {
	f.mu.Lock()
	f.methods = nil
	f.mu.Unlock()
}

// isolate points every per-user location at a temporary home, so no real
// node, cookie, config or harness state of the machine is used.
func isolate(t *testing.T) string {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	t.Setenv("XDG_STATE_HOME", filepath.Join(home, ".local", "state"))
	t.Setenv(statusDirEnv, filepath.Join(home, "status"))
	for _, v := range []string{"BTCSTAKE_CONFIG", "BTCSTAKE_NETWORK", "BTCSTAKE_RPC_URL", "BTCSTAKE_RPC_USER", "BTCSTAKE_RPC_PASS", "BTCSTAKE_RPC_COOKIE"} {
		t.Setenv(v, "")
	}
	return home
}

// TestNodeChainCheckedFirst: every node command asks the node's chain
// (its name, then its genesis block) before anything else, and refuses a
// node of another chain than the network, however the network was set.
func TestNodeChainCheckedFirst(t *testing.T) {
	home := isolate(t)
	node := newFakeNodeServer(t, "regtest")
	tx := wire.NewMsgTx(2)
	tx.AddTxIn(wire.NewTxIn(&wire.OutPoint{Index: 1}, nil, nil))
	tx.AddTxOut(wire.NewTxOut(1000, []byte{0x51}))
	conn := []string{"--rpc-url", node.srv.URL, "--rpc-user", "u", "--rpc-pass-file", secretFile(t, "p")}
	commands := map[string][]string{
		"broadcast": {"broadcast", "--tx", txHex(tx)},
		"wait":      {"wait", "--txid", strings.Repeat("ab", 32), "--timeout", "1s"},
		"status":    {"status", "--params", "../../params/regtest-example.json", "--txid", strings.Repeat("ab", 32)},
		"node info": {"node", "info"},
	}
	refused := func(t *testing.T, args []string, text string, calls ...string) {
		t.Helper()
		node.reset()
		code, _, errOut := runCLI(t, append(args, conn...)...)
		if code != 1 || !strings.Contains(errOut, text) || !strings.Contains(errOut, "refusing to talk to it") || strings.Count(errOut, "\n") != 1 {
			t.Fatalf("%v: exit %d %q", args, code, errOut)
		}
		if got := node.calls(); strings.Join(got, ",") != strings.Join(calls, ",") {
			t.Fatalf("%v: the command sent %v to a node of the wrong chain, want %v", args, got, calls)
		}
	}
	wrongName := func(t *testing.T, args []string, net string) {
		t.Helper()
		refused(t, args, `follows "regtest", not `+net, "getblockchaininfo")
	}
	for name, args := range commands {
		t.Run(name, func(t *testing.T) {
			wrongName(t, append(args, "--network", "mainnet"), "mainnet")
			wrongName(t, append(args, "--network", "testnet4"), "testnet4")
			// The right name, another chain's genesis block.
			node.mu.Lock()
			node.genesis = *chaincfg.MainNetParams.GenesisHash
			node.mu.Unlock()
			refused(t, append(args, "--network", "regtest"), "its genesis block is "+chaincfg.MainNetParams.GenesisHash.String(),
				"getblockchaininfo", "getblockhash")
			node.mu.Lock()
			node.genesis = *chaincfg.RegressionNetParams.GenesisHash
			node.mu.Unlock()
		})
	}

	// The network set once: the environment, then the config file; the
	// flag beats both.
	t.Setenv("BTCSTAKE_NETWORK", "signet")
	wrongName(t, commands["broadcast"], "signet")
	node.reset()
	if code, out, errOut := runCLI(t, append(commands["broadcast"], append(conn, "--network", "regtest")...)...); code != 0 || !strings.Contains(out, "broadcast") {
		t.Fatalf("--network over the environment: exit %d %q %q", code, out, errOut)
	}
	if calls := node.calls(); strings.Join(calls, ",") != "getblockchaininfo,getblockhash,testmempoolaccept,sendrawtransaction" {
		t.Fatalf("broadcast sent %v", calls)
	}
	t.Setenv("BTCSTAKE_NETWORK", "")
	cfg := filepath.Join(home, ".config", "btcstake", "config.json")
	if err := os.MkdirAll(filepath.Dir(cfg), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, []byte(`{"network": "mainnet"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	wrongName(t, commands["wait"], "mainnet")
	t.Setenv("BTCSTAKE_NETWORK", "regtest") // the environment beats the file
	node.reset()
	if code, _, errOut := runCLI(t, append(commands["broadcast"], conn...)...); code != 0 {
		t.Fatalf("environment over the config file: exit %d %q", code, errOut)
	}
	// A bad network from the environment is a usage error saying where it came from.
	t.Setenv("BTCSTAKE_NETWORK", "mainnett")
	if code, _, errOut := runCLI(t, "wait", "--txid", strings.Repeat("ab", 32)); code != 2 || !strings.Contains(errOut, "BTCSTAKE_NETWORK") {
		t.Fatalf("bad BTCSTAKE_NETWORK: exit %d %q", code, errOut)
	}
}

// TestWaitTimeoutIsATimeout: a node that stops answering while wait's
// deadline passes is a timeout, not an unreachable node.
func TestWaitTimeoutIsATimeout(t *testing.T) {
	isolate(t)
	node := newFakeNodeServer(t, "regtest")
	node.hang = true
	code, _, errOut := runCLI(t, "wait", "--network", "regtest", "--txid", strings.Repeat("ab", 32), "--timeout", "300ms",
		"--rpc-url", node.srv.URL, "--rpc-user", "u", "--rpc-pass-file", secretFile(t, "p"))
	if code != 1 || !strings.Contains(errOut, "gave up after 300ms") || strings.Contains(errOut, "cannot reach") {
		t.Fatalf("exit %d %q", code, errOut)
	}
}

// TestDefaultNodeDiscovery: with no URL or credentials configured, the
// harness's node comes first on regtest, then a local bitcoind on its
// default port with its cookie; the cookie is never offered to a remote
// host.
func TestDefaultNodeDiscovery(t *testing.T) {
	home := isolate(t)
	writeCookie := func(sub string) {
		dir := filepath.Join(home, ".bitcoin", sub)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, ".cookie"), []byte("__cookie__:"+sub+"secret"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	resolve := func(network string, nf nodeFlags) (nodeConfig, error) {
		cfg, _, err := nf.resolve(&app{network: network})
		return cfg, err
	}
	// Nothing there: a usage error naming the cookie looked for.
	if _, err := resolve("signet", nodeFlags{}); err == nil || !strings.Contains(err.Error(), filepath.Join(".bitcoin", "signet", ".cookie")) || !strings.Contains(err.Error(), "--rpc-url") {
		t.Fatalf("no node: %v", err)
	}
	for _, c := range []struct{ network, sub, url string }{
		{"mainnet", "", "127.0.0.1:8332"},
		{"testnet", "testnet3", "127.0.0.1:18332"},
		{"testnet4", "testnet4", "127.0.0.1:48332"},
		{"signet", "signet", "127.0.0.1:38332"},
		{"regtest", "regtest", "127.0.0.1:18443"},
	} {
		writeCookie(c.sub)
		cfg, err := resolve(c.network, nodeFlags{})
		if err != nil || cfg.URL != c.url || cfg.User != "__cookie__" || cfg.Pass != c.sub+"secret" {
			t.Errorf("%s: %+v, %v", c.network, cfg, err)
		}
	}
	// A local URL without credentials gets the cookie; a remote one does not.
	if cfg, err := resolve("signet", nodeFlags{url: "localhost:38332"}); err != nil || cfg.Pass != "signetsecret" {
		t.Errorf("local URL: %+v, %v", cfg, err)
	}
	if cfg, err := resolve("signet", nodeFlags{url: "http://203.0.113.7:38332"}); err != nil || cfg.Pass != "" || cfg.Cookie != "" {
		t.Errorf("remote URL: the cookie was offered: %+v, %v", cfg, err)
	}
	// Explicit credentials win over the cookie.
	if cfg, err := resolve("signet", nodeFlags{user: "me", passFile: secretFile(t, "pw")}); err != nil || cfg.User != "me" || cfg.Pass != "pw" || cfg.URL != "127.0.0.1:38332" {
		t.Errorf("explicit credentials: %+v, %v", cfg, err)
	}
	// On regtest, the node of 'btcstake regtest start' comes first.
	state := regtest.State{Kind: regtest.Btcd, RPC: regtest.RPCInfo{Host: "127.0.0.1:5555", User: "hu", Pass: "hp"}}
	if err := regtest.SaveState(filepath.Join(defaultRegtestDir(), "state.json"), state); err != nil {
		t.Fatal(err)
	}
	if cfg, err := resolve("regtest", nodeFlags{}); err != nil || cfg.URL != "127.0.0.1:5555" || cfg.User != "hu" || cfg.Pass != "hp" {
		t.Errorf("harness first: %+v, %v", cfg, err)
	}
}
