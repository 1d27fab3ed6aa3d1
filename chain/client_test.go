package chain

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg/v2"
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

func TestCheckNetwork(t *testing.T) {
	var chainName string
	s := newStandIn(t, map[string]func([]json.RawMessage) answer{
		"getblockchaininfo": func([]json.RawMessage) answer {
			return ok(map[string]any{"chain": chainName, "blocks": 812, "bestblockhash": hashOf(9)})
		},
	})
	c := s.client(t)
	ctx := ctxT(t)
	nets := []*chaincfg.Params{&chaincfg.MainNetParams, &chaincfg.TestNet3Params, &chaincfg.TestNet4Params,
		&chaincfg.SigNetParams, &chaincfg.RegressionNetParams}
	for _, node := range []struct {
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
		chainName = node.chain
		for _, net := range nets {
			err := c.CheckNetwork(ctx, net)
			if net == node.is && err != nil {
				t.Errorf("node %q, network %s: %v", node.chain, net.Name, err)
			}
			if net != node.is && (!errors.Is(err, ErrWrongChain) || !strings.Contains(err.Error(), node.chain)) {
				t.Errorf("node %q, network %s: %v, want ErrWrongChain naming the node's chain", node.chain, net.Name, err)
			}
		}
	}
	chainName = "main"
	tip, err := c.Tip(ctx)
	if err != nil || tip.Height != 812 || tip.Hash.String() != hashOf(9) {
		t.Fatalf("tip %+v, %v", tip, err)
	}
	if err := c.CheckNetwork(ctx, nil); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("nil network: %v", err)
	}
}
