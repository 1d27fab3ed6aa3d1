package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/btcstake/btcstake/internal/rpc"
	"github.com/btcstake/btcstake/regtest"
)

// Node connection settings, from the first source that sets them:
//
//  1. flags --rpc-url, --rpc-user, --rpc-pass, --rpc-cookie
//  2. environment BTCSTAKE_RPC_URL, BTCSTAKE_RPC_USER, BTCSTAKE_RPC_PASS,
//     BTCSTAKE_RPC_COOKIE
//  3. the config file: --config, else $BTCSTAKE_CONFIG, else
//     <user config dir>/btcstake/config.json if it exists
//  4. with --network regtest, the node "btcstake regtest start" launched
//
// Each field is resolved on its own, so a password can come from the
// environment while the URL comes from the config file.
type nodeFlags struct {
	url, user, pass, cookie, config string
}

func (f *nodeFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.url, "rpc-url", "", "node RPC address, host:port or http://host:port (env BTCSTAKE_RPC_URL)")
	fl.StringVar(&f.user, "rpc-user", "", "RPC user (env BTCSTAKE_RPC_USER)")
	fl.StringVar(&f.pass, "rpc-pass", "", "RPC password (env BTCSTAKE_RPC_PASS; prefer the environment or a cookie file)")
	fl.StringVar(&f.cookie, "rpc-cookie", "", "bitcoind cookie file with user:password (env BTCSTAKE_RPC_COOKIE)")
	fl.StringVar(&f.config, "config", "", "config file (JSON: rpc_url, rpc_user, rpc_pass, rpc_cookie; env BTCSTAKE_CONFIG)")
}

type nodeConfig struct {
	URL    string `json:"rpc_url"`
	User   string `json:"rpc_user"`
	Pass   string `json:"rpc_pass"`
	Cookie string `json:"rpc_cookie"`
}

// loadConfigFile reads a config file; one that holds a password must not be
// readable by other users.
func loadConfigFile(path string, explicit bool) (nodeConfig, error) {
	var c nodeConfig
	st, err := os.Stat(path)
	if err != nil {
		if !explicit && errors.Is(err, os.ErrNotExist) {
			return c, nil
		}
		return c, usagef("config", "%v", err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return c, usagef("config", "%v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return c, usagef("config", "%s: %v", path, err)
	}
	if c.Pass != "" && st.Mode().Perm()&0o077 != 0 {
		return c, usagef("config", "%s holds an RPC password but is readable by others (mode %o); chmod 600 it", path, st.Mode().Perm())
	}
	return c, nil
}

// resolve merges the sources into one setting and names where the URL came
// from.
func (f *nodeFlags) resolve(a *app) (nodeConfig, string, error) {
	pick := func(vals ...string) string {
		for _, v := range vals {
			if v != "" {
				return v
			}
		}
		return ""
	}
	cfgPath, explicit := f.config, f.config != ""
	if cfgPath == "" {
		if cfgPath = os.Getenv("BTCSTAKE_CONFIG"); cfgPath != "" {
			explicit = true
		} else if d, err := os.UserConfigDir(); err == nil {
			cfgPath = filepath.Join(d, "btcstake", "config.json")
		}
	}
	var file nodeConfig
	if cfgPath != "" {
		var err error
		if file, err = loadConfigFile(cfgPath, explicit); err != nil {
			return nodeConfig{}, "", err
		}
	}
	c := nodeConfig{
		URL:    pick(f.url, os.Getenv("BTCSTAKE_RPC_URL"), file.URL),
		User:   pick(f.user, os.Getenv("BTCSTAKE_RPC_USER"), file.User),
		Pass:   pick(f.pass, os.Getenv("BTCSTAKE_RPC_PASS"), file.Pass),
		Cookie: pick(f.cookie, os.Getenv("BTCSTAKE_RPC_COOKIE"), file.Cookie),
	}
	src := "flags/environment/config"
	if f.url == "" && os.Getenv("BTCSTAKE_RPC_URL") == "" && file.URL == "" {
		if a.network != "regtest" {
			return c, "", usagef("rpc-url", "no node configured: pass --rpc-url, set BTCSTAKE_RPC_URL, or write a config file (docs/cli.md, \"Node connection\")")
		}
		st, err := regtest.LoadState(filepath.Join(defaultRegtestDir(), "state.json"))
		if err != nil {
			return c, "", usagef("rpc-url", "no node configured and no node from 'btcstake regtest start' found: pass --rpc-url or set BTCSTAKE_RPC_URL")
		}
		c.URL, src = st.RPC.Host, "the node of 'btcstake regtest start'"
		if c.User == "" && c.Pass == "" {
			c.User, c.Pass = st.RPC.User, st.RPC.Pass
		}
	}
	if c.Cookie != "" && c.Pass == "" {
		b, err := os.ReadFile(c.Cookie)
		if err != nil {
			return c, "", usagef("rpc-cookie", "%v", err)
		}
		u, p, ok := strings.Cut(strings.TrimSpace(string(b)), ":")
		if !ok {
			return c, "", usagef("rpc-cookie", "%s is not a user:password cookie file", c.Cookie)
		}
		c.User, c.Pass = u, p
	}
	return c, src, nil
}

// nodeURL normalises host:port or http://host:port/.
func nodeURL(s string) (string, error) {
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return "", usagef("rpc-url", "%q is not host:port or http://host:port", s)
	}
	if u.Scheme != "http" {
		return "", usagef("rpc-url", "scheme %q is not supported (the node RPC speaks plain http; tunnel it for remote use)", u.Scheme)
	}
	return "http://" + u.Host + "/", nil
}

// nodeConn is a connection to the user's node.
type nodeConn struct {
	c       *rpc.Client
	timeout time.Duration
}

func (f *nodeFlags) connect(a *app) (*nodeConn, error) {
	cfg, _, err := f.resolve(a)
	if err != nil {
		return nil, err
	}
	u, err := nodeURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	return &nodeConn{c: rpc.New(u, cfg.User, cfg.Pass), timeout: 30 * time.Second}, nil
}

// call runs one RPC, turning failures into one-line, plain errors.
func (n *nodeConn) call(ctx context.Context, method string, params ...any) (json.RawMessage, error) {
	res, err := n.c.Call(ctx, n.timeout, method, params...)
	if errors.Is(err, rpc.ErrTransport) {
		msg := err.Error()
		switch {
		case strings.Contains(msg, "401"):
			return nil, fmt.Errorf("the node at %s refused the RPC credentials (check --rpc-user/--rpc-pass or the cookie)", n.c.URL())
		case strings.Contains(msg, "connection refused"), strings.Contains(msg, "no such host"), strings.Contains(msg, "timeout"), strings.Contains(msg, "deadline"):
			return nil, fmt.Errorf("cannot reach a node at %s (is it running? check --rpc-url)", n.c.URL())
		}
		return nil, fmt.Errorf("node at %s: %v", n.c.URL(), err)
	}
	return res, err
}

// callInto runs an RPC and decodes its result.
func (n *nodeConn) callInto(ctx context.Context, out any, method string, params ...any) error {
	res, err := n.call(ctx, method, params...)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(res, out); err != nil {
		return fmt.Errorf("node at %s: unexpected %s reply: %v", n.c.URL(), method, err)
	}
	return nil
}

// rejectionText explains a node's reject reason in plain words.
func rejectionText(reason string) string {
	kind := regtest.ClassifyReject(reason)
	var plain string
	switch {
	case errors.Is(kind, regtest.ErrSequenceLock), errors.Is(kind, regtest.ErrNonFinal):
		plain = "a time lock has not expired yet: the spent output is not deep enough for this path (wait for more blocks)"
	case errors.Is(kind, regtest.ErrImmatureCoinbase):
		plain = "it spends a coinbase output that needs 100 confirmations"
	case errors.Is(kind, regtest.ErrScriptFailure):
		plain = "a signature or script check failed: a missing or wrong signature, the wrong key, or the wrong spend path"
	case errors.Is(kind, regtest.ErrFee):
		plain = "the fee is too low for the node's relay policy"
	case errors.Is(kind, regtest.ErrNonStandard):
		plain = "the node's policy refuses it as non-standard (a dust output, an unusual script, or too large)"
	case errors.Is(kind, regtest.ErrDoubleSpend):
		plain = "it conflicts with a transaction already in the mempool or the chain"
	case errors.Is(kind, regtest.ErrMissingInputs):
		plain = "it spends outputs the node does not know or that are already spent"
	case errors.Is(kind, regtest.ErrAlreadyKnown):
		plain = "the node already has this transaction"
	default:
		plain = "the node refused it"
	}
	return fmt.Sprintf("%s (node: %s)", plain, reason)
}
