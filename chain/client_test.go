package chain

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

func TestNormalizeURL(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1:8332":           "http://127.0.0.1:8332/",
		"http://127.0.0.1:8332":    "http://127.0.0.1:8332/",
		"http://node:18443/wallet": "http://node:18443/",
		"[::1]:8332":               "http://[::1]:8332/",
	} {
		got, err := NormalizeURL(in)
		if err != nil || got != want {
			t.Errorf("NormalizeURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "https://127.0.0.1:8332", "127.0.0.1", "http://", "http://u:p@127.0.0.1:8332", "ftp://x:1", "::"} {
		if got, err := NormalizeURL(in); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("NormalizeURL(%q) = %q, %v; want ErrInvalidArgument", in, got, err)
		}
	}
	// A URL with credentials is refused without echoing the password,
	// however it is spelled (a parse error would otherwise quote it).
	for _, in := range []string{"http://u:s3cretpw@127.0.0.1:8332", "u:s3cretpw@127.0.0.1:8332", "http://u:s3cretpw@[::1", "http://u:s3cretpw@"} {
		_, err := NormalizeURL(in)
		if !errors.Is(err, ErrInvalidArgument) || strings.Contains(err.Error(), "s3cretpw") {
			t.Errorf("NormalizeURL(%q): %v; want ErrInvalidArgument without the password", in, err)
		}
	}
	if _, err := New(Config{URL: "127.0.0.1:1", CallTimeout: -1}); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("negative call timeout: %v", err)
	}
}

// TestTransportKinds: each way of not getting an answer has its own kind;
// in particular a timeout is never reported as an unreachable node.
func TestTransportKinds(t *testing.T) {
	s := newStandIn(t, map[string]func([]json.RawMessage) answer{
		"getblockcount": func([]json.RawMessage) answer { return ok(7) },
	})
	// A node that holds every request until the client gives up.
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // then the server notices the client leaving
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}))
	t.Cleanup(hang.Close)
	html := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("<html>a web server</html>"))
	}))
	t.Cleanup(html.Close)
	notFound := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(notFound.Close)
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()

	ctx := ctxT(t)
	mk := func(url, pass string, timeout time.Duration) *Client {
		c, err := New(Config{URL: url, User: "u", Pass: pass, CallTimeout: timeout})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if h, err := s.client(t).Height(ctx); err != nil || h != 7 {
		t.Fatalf("height: %d, %v", h, err)
	}
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	cases := []struct {
		name string
		call func() error
		want error
		text string
	}{
		{"wrong password", func() error { _, err := mk(s.srv.URL, "wrong", time.Second).Height(ctx); return err }, ErrAuth, "401"},
		{"nothing listening", func() error { _, err := mk(closedURL, "p", time.Second).Height(ctx); return err }, ErrUnreachable, closedURL},
		{"call timeout", func() error { _, err := mk(hang.URL, "p", 50*time.Millisecond).Height(ctx); return err }, ErrTimeout, "did not answer getblockcount within 50ms"},
		{"context deadline", func() error { _, err := mk(hang.URL, "p", 10*time.Second).Height(short); return err }, ErrTimeout, "deadline exceeded"},
		{"not JSON", func() error { _, err := mk(html.URL, "p", time.Second).Height(ctx); return err }, ErrBadReply, "getblockcount"},
		{"404 page", func() error { _, err := mk(notFound.URL, "p", time.Second).Height(ctx); return err }, ErrBadReply, "404"},
		{"error object", func() error { _, err := s.client(t).Call(ctx, "nosuchmethod"); return err }, ErrRPC, "Method not found (code -32601)"},
	}
	kinds := []error{ErrAuth, ErrUnreachable, ErrTimeout, ErrBadReply, ErrRPC, ErrNotFound, ErrRejected}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.call()
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.text) {
				t.Fatalf("got %v, want %v mentioning %q", err, c.want, c.text)
			}
			for _, k := range kinds {
				if k != c.want && errors.Is(err, k) {
					t.Errorf("%v also matches %v", err, k)
				}
			}
			if strings.Contains(err.Error(), "wrong") {
				t.Errorf("the password reached the error: %v", err)
			}
		})
	}
	// The context's own error stays reachable, and the node's error object.
	_, err := mk(hang.URL, "p", 10*time.Second).Height(short)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("context deadline: %v does not wrap context.DeadlineExceeded", err)
	}
	_, err = s.client(t).Call(ctx, "nosuchmethod")
	var re *RPCError
	if !errors.As(err, &re) || re.Code != -32601 {
		t.Errorf("error object not reachable: %v", err)
	}
}

// netStandIn is a node that reports a chain name, a genesis block, a
// height, a block 1 and (when set) a signet challenge.
type netStandIn struct {
	name      string
	genesis   chainhash.Hash
	blocks    int64
	block1    chainhash.Hash
	challenge string
}

func (n *netStandIn) methods(t *testing.T) map[string]func([]json.RawMessage) answer {
	return map[string]func([]json.RawMessage) answer{
		"getblockchaininfo": func([]json.RawMessage) answer {
			v := map[string]any{"chain": n.name, "blocks": n.blocks, "bestblockhash": hashOf(9)}
			if n.challenge != "" {
				v["signet_challenge"] = n.challenge
			}
			return ok(v)
		},
		"getblockhash": func(ps []json.RawMessage) answer {
			switch param[int64](t, ps, 0) {
			case 0:
				return ok(n.genesis.String())
			case 1:
				if n.blocks >= 1 {
					return ok(n.block1.String())
				}
			}
			return fail(-8, "Block height out of range")
		},
	}
}

// TestCheckNetwork: a node passes for a network only when its chain name
// and its genesis block are the network's; anything else is ErrWrongChain
// naming what differs.
func TestCheckNetwork(t *testing.T) {
	node := &netStandIn{blocks: 812}
	s := newStandIn(t, node.methods(t))
	c := s.client(t)
	ctx := ctxT(t)
	nets := []*chaincfg.Params{&chaincfg.MainNetParams, &chaincfg.TestNet3Params, &chaincfg.TestNet4Params,
		&chaincfg.SigNetParams, &chaincfg.RegressionNetParams}
	for _, n := range []struct {
		chain string // as the node spells it
		is    *chaincfg.Params
	}{
		{"main", &chaincfg.MainNetParams}, {"mainnet", &chaincfg.MainNetParams}, // bitcoind, btcd
		{"test", &chaincfg.TestNet3Params}, {"testnet3", &chaincfg.TestNet3Params},
		{"testnet4", &chaincfg.TestNet4Params},
		{"signet", &chaincfg.SigNetParams},
		{"regtest", &chaincfg.RegressionNetParams},
		{"liquidv1", nil},
	} {
		node.name, node.block1 = n.chain, defaultSignetBlock1
		for _, net := range nets {
			node.genesis = *net.GenesisHash // the genesis asked for: only the name differs
			err := c.CheckNetwork(ctx, net)
			if net == n.is && err != nil {
				t.Errorf("node %q, network %s: %v", n.chain, net.Name, err)
			}
			if net != n.is && (!errors.Is(err, ErrWrongChain) || !strings.Contains(err.Error(), n.chain)) {
				t.Errorf("node %q, network %s: %v, want ErrWrongChain naming the node's chain", n.chain, net.Name, err)
			}
		}
		if n.is == nil {
			continue
		}
		// The right name, another network's genesis block.
		for _, other := range nets {
			if *other.GenesisHash == *n.is.GenesisHash {
				continue
			}
			node.genesis = *other.GenesisHash
			err := c.CheckNetwork(ctx, n.is)
			if !errors.Is(err, ErrWrongChain) || !strings.Contains(err.Error(), "genesis block is "+other.GenesisHash.String()) {
				t.Errorf("node %q with %s's genesis: %v", n.chain, other.Name, err)
			}
		}
	}
	// The name is asked first: a node of the wrong name is not asked for
	// its genesis block.
	node.name = "regtest"
	before := s.called("getblockhash")
	if err := c.CheckNetwork(ctx, &chaincfg.MainNetParams); !errors.Is(err, ErrWrongChain) || s.called("getblockhash") != before {
		t.Fatalf("wrong name: %v, %d genesis lookups", err, s.called("getblockhash")-before)
	}
	node.name = "main"
	tip, err := c.Tip(ctx)
	if err != nil || tip.Height != 812 || tip.Hash.String() != hashOf(9) {
		t.Fatalf("tip %+v, %v", tip, err)
	}
	if err := c.CheckNetwork(ctx, nil); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("nil network: %v", err)
	}
}

// TestCheckSignet: every signet shares the genesis block, so a signet is
// told by its challenge when the node reports it (bitcoind 29+), else by
// block 1 for the default signet; a custom signet is confirmed only by a
// node that reports its challenge.
func TestCheckSignet(t *testing.T) {
	node := &netStandIn{name: "signet", genesis: *chaincfg.SigNetParams.GenesisHash, blocks: 230_000, block1: defaultSignetBlock1}
	c := newStandIn(t, node.methods(t)).client(t)
	ctx := ctxT(t)
	custom := []byte{0x51} // OP_TRUE, the usual test signet
	customNet := chaincfg.CustomSignetParams(custom, nil)
	defaultHex := hex.EncodeToString(chaincfg.DefaultSignetChallenge)
	var otherBlock1 chainhash.Hash
	otherBlock1[0] = 1
	for _, c2 := range []struct {
		name      string
		challenge string
		blocks    int64
		block1    chainhash.Hash
		net       *chaincfg.Params
		want      error
		text      string
	}{
		{"default, reported", defaultHex, 230_000, otherBlock1, &chaincfg.SigNetParams, nil, ""},
		{"custom reported, default asked", "51", 230_000, otherBlock1, &chaincfg.SigNetParams, ErrWrongChain, "challenge 51"},
		{"custom, reported", "51", 230_000, otherBlock1, &customNet, nil, ""},
		{"default reported, custom asked", defaultHex, 230_000, defaultSignetBlock1, &customNet, ErrWrongChain, "not the signet of network magic"},
		{"default, block 1", "", 230_000, defaultSignetBlock1, &chaincfg.SigNetParams, nil, ""},
		{"custom, block 1", "", 230_000, otherBlock1, &chaincfg.SigNetParams, ErrWrongChain, "custom signet"},
		{"no block 1", "", 0, defaultSignetBlock1, &chaincfg.SigNetParams, ErrUnconfirmedChain, "no block after the genesis"},
		{"custom asked, not reported", "", 230_000, otherBlock1, &customNet, ErrUnconfirmedChain, "does not report its signet challenge"},
	} {
		node.challenge, node.blocks, node.block1 = c2.challenge, c2.blocks, c2.block1
		err := c.CheckNetwork(ctx, c2.net)
		if c2.want == nil && err != nil || c2.want != nil && (!errors.Is(err, c2.want) || !strings.Contains(err.Error(), c2.text)) {
			t.Errorf("%s: %v, want %v mentioning %q", c2.name, err, c2.want, c2.text)
		}
		if errors.Is(err, ErrWrongChain) && errors.Is(err, ErrUnconfirmedChain) {
			t.Errorf("%s: two kinds: %v", c2.name, err)
		}
	}
	node.challenge = "zz"
	if err := c.CheckNetwork(ctx, &chaincfg.SigNetParams); !errors.Is(err, ErrBadReply) {
		t.Errorf("a challenge that is not hex: %v", err)
	}
}

// TestSignetFacts checks the signet constants against facts from
// elsewhere: the header of the default signet's block 1 (as Bitcoin
// Core's test/functional/feature_signet.py feeds it) hashes to
// defaultSignetBlock1 and builds on chaincfg's signet genesis; the default
// signet's magic is chaincfg's (0a03cf40 on the wire, BIP 325), and a
// short custom challenge gets the magic chaincfg gives it.
func TestSignetFacts(t *testing.T) {
	raw, _ := hex.DecodeString("00000020f61eee3b63a380a477a063af32b2bbc97c9ff9f01f2c4225e973988108000000" +
		"f575c83235984e7dc4afc1f30944c170462e84437ab6f2d52e16878a79e4678bd1914d5fae77031eccf40700")
	var hdr wire.BlockHeader
	if err := hdr.Deserialize(bytes.NewReader(raw)); err != nil {
		t.Fatal(err)
	}
	if hdr.BlockHash() != defaultSignetBlock1 || hdr.PrevBlock != *chaincfg.SigNetParams.GenesisHash {
		t.Fatalf("block 1 %s on %s", hdr.BlockHash(), hdr.PrevBlock)
	}
	if m := SignetMagic(chaincfg.DefaultSignetChallenge); m != chaincfg.SigNetParams.Net {
		t.Fatalf("default magic %08x, chaincfg %08x", uint32(m), uint32(chaincfg.SigNetParams.Net))
	}
	var wireMagic [4]byte
	binary.LittleEndian.PutUint32(wireMagic[:], uint32(SignetMagic(chaincfg.DefaultSignetChallenge)))
	if hex.EncodeToString(wireMagic[:]) != "0a03cf40" {
		t.Fatalf("default magic on the wire %x", wireMagic)
	}
	for _, ch := range [][]byte{{0x51}, bytes.Repeat([]byte{0x51}, 200)} {
		if SignetMagic(ch) != chaincfg.CustomSignetParams(ch, nil).Net {
			t.Errorf("magic of a %d-byte challenge differs from chaincfg's", len(ch))
		}
	}
}
