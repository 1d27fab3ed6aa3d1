package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/spf13/cobra"

	"github.com/btcstake/btcstake/chain"
	"github.com/btcstake/btcstake/internal/inputfile"
	"github.com/btcstake/btcstake/internal/strictjson"
	"github.com/btcstake/btcstake/regtest"
)

// Node connection settings, each from the first source that sets it:
//
//  1. flags --rpc-url, --rpc-user, --rpc-pass, --rpc-cookie
//  2. environment BTCSTAKE_RPC_URL, BTCSTAKE_RPC_USER, BTCSTAKE_RPC_PASS,
//     BTCSTAKE_RPC_COOKIE
//  3. the config file: --config, else $BTCSTAKE_CONFIG, else
//     <user config dir>/btcstake/config.json if it exists
//  4. with --network regtest, the node "btcstake regtest start" launched
//  5. a local bitcoind: 127.0.0.1 on its default RPC port for --network,
//     with its cookie file when it exists (chain.DefaultRPCPort,
//     chain.CookiePath)
//
// Each field is resolved on its own, so a password can come from the
// environment while the URL comes from the config file. The --network
// itself may come from BTCSTAKE_NETWORK or the config file's "network"
// (see app.resolveNetwork).
type nodeFlags struct {
	url, user, passFile, cookie, config, signetChallenge string
}

func (f *nodeFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.url, "rpc-url", "", "node RPC address, host:port or http://host:port (env BTCSTAKE_RPC_URL; default: a local bitcoind's port for --network)")
	fl.StringVar(&f.user, "rpc-user", "", "RPC user (env BTCSTAKE_RPC_USER)")
	fl.StringVar(&f.passFile, "rpc-pass-file", "", "file holding the RPC password, mode 0600 (or env BTCSTAKE_RPC_PASS, the config file, a cookie)")
	refuseSecretFlag(cmd, "rpc-pass", "use --rpc-pass-file FILE, the environment (BTCSTAKE_RPC_PASS), rpc_pass in the config file, or the node's cookie")
	fl.StringVar(&f.cookie, "rpc-cookie", "", "bitcoind cookie file with user:password (env BTCSTAKE_RPC_COOKIE; default: bitcoind's for --network, on a local node)")
	fl.StringVar(&f.config, "config", "", "config file (JSON: network, rpc_url, rpc_user, rpc_pass, rpc_cookie, signet_challenge; env BTCSTAKE_CONFIG)")
	fl.StringVar(&f.signetChallenge, "signet-challenge", "", "with --network signet: the block challenge (script hex) of a custom signet (env BTCSTAKE_SIGNET_CHALLENGE; default: the public signet)")
}

type nodeConfig struct {
	Network         string `json:"network,omitempty"`
	URL             string `json:"rpc_url,omitempty"`
	User            string `json:"rpc_user,omitempty"`
	Pass            string `json:"rpc_pass,omitempty"`
	Cookie          string `json:"rpc_cookie,omitempty"`
	SignetChallenge string `json:"signet_challenge,omitempty"`
}

// configPath returns the config file to read and whether the user named
// it (--config or $BTCSTAKE_CONFIG) rather than it being the default.
func configPath(flag string) (string, bool) {
	if flag != "" {
		return flag, true
	}
	if p := os.Getenv("BTCSTAKE_CONFIG"); p != "" {
		return p, true
	}
	if d, err := os.UserConfigDir(); err == nil {
		return filepath.Join(d, "btcstake", "config.json"), false
	}
	return "", false
}

// readConfigFile reads and decodes a config file: a regular file of at
// most maxConfigSize bytes, strict JSON (internal/strictjson: unknown
// fields, a field given twice and data after the object are refused). A
// default file that does not exist is an empty config.
func readConfigFile(path string, explicit bool) (nodeConfig, os.FileInfo, error) {
	var c nodeConfig
	st, err := os.Stat(path)
	if err != nil && !explicit && errors.Is(err, os.ErrNotExist) {
		return c, nil, nil
	}
	b, err := readFileFlag("config", path, maxConfigSize, 0)
	if err != nil {
		return c, nil, err
	}
	defer clear(b)
	if err := strictjson.Decode(b, &c); err != nil {
		return nodeConfig{}, nil, usagef("config", "%s: %v", path, err)
	}
	return c, st, nil
}

// loadConfigFile reads a config file for a node command; one that holds a
// password must be private to its owner.
func loadConfigFile(path string, explicit bool) (nodeConfig, error) {
	c, st, err := readConfigFile(path, explicit)
	if err != nil || st == nil {
		return c, err
	}
	if perm := st.Mode().Perm(); c.Pass != "" && perm&inputfile.Private != 0 && runtime.GOOS != "windows" {
		return nodeConfig{}, usagef("config", "%s holds an RPC password but group or others can access it (mode %04o); run chmod 600 %s", path, perm, path)
	}
	return c, nil
}

// readPassFile reads a password file: owner-only, bounded, one line (the
// trailing newline dropped). Its content never appears in an error.
func readPassFile(flag, path string) (string, error) {
	b, err := readFileFlag(flag, path, maxSecretFileSize, inputfile.Private)
	if err != nil {
		return "", err
	}
	pass := strings.TrimRight(string(b), "\r\n")
	clear(b)
	if pass == "" {
		return "", usagef(flag, "%s is empty", path)
	}
	return pass, nil
}

// isLoopback reports whether a host:port names this machine, where a
// local bitcoind's cookie may be offered.
func isLoopback(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
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
	params, err := a.params()
	if err != nil {
		return nodeConfig{}, "", err
	}
	var file nodeConfig
	if path, explicit := configPath(f.config); path != "" {
		if file, err = loadConfigFile(path, explicit); err != nil {
			return nodeConfig{}, "", err
		}
	}
	var pass string
	if f.passFile != "" {
		if pass, err = readPassFile("rpc-pass-file", f.passFile); err != nil {
			return nodeConfig{}, "", err
		}
	}
	c := nodeConfig{
		URL:             pick(f.url, os.Getenv("BTCSTAKE_RPC_URL"), file.URL),
		User:            pick(f.user, os.Getenv("BTCSTAKE_RPC_USER"), file.User),
		Pass:            pick(pass, os.Getenv("BTCSTAKE_RPC_PASS"), file.Pass),
		Cookie:          pick(f.cookie, os.Getenv("BTCSTAKE_RPC_COOKIE"), file.Cookie),
		SignetChallenge: pick(f.signetChallenge, os.Getenv("BTCSTAKE_SIGNET_CHALLENGE"), file.SignetChallenge),
	}
	if c.SignetChallenge != "" && params.Name != chaincfg.SigNetParams.Name {
		return c, "", usagef("signet-challenge", "a signet challenge needs --network signet, not %s", params.Name)
	}
	src := "flags/environment/config"
	if c.URL == "" && params.Name == "regtest" {
		statePath := filepath.Join(defaultRegtestDir(), "state.json")
		if st, err := regtest.LoadState(statePath); err == nil {
			filesRead = append(filesRead, statePath)
			c.URL, src = st.RPC.Host, "the node of 'btcstake regtest start'"
			if c.User == "" && c.Pass == "" {
				c.User, c.Pass = st.RPC.User, st.RPC.Pass
			}
		}
	}
	noCredentials := c.User == "" && c.Pass == "" && c.Cookie == ""
	defaulted := c.URL == ""
	if defaulted {
		port, err := chain.DefaultRPCPort(params)
		if err != nil {
			return c, "", usagef("rpc-url", "no node configured: pass --rpc-url, set BTCSTAKE_RPC_URL, or write a config file (docs/cli.md, \"Node connection\")")
		}
		c.URL, src = net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), "bitcoind's default port for "+params.Name
	}
	// A local bitcoind's cookie, when nothing else gives credentials (never
	// offered to a remote host).
	if noCredentials {
		cookie, cerr := chain.CookiePath("", params)
		if nu, err := chain.NormalizeURL(c.URL); err == nil && cerr == nil {
			if u, err := url.Parse(nu); err == nil && isLoopback(u.Host) {
				if _, err := os.Stat(cookie); err == nil {
					c.Cookie = cookie
				}
			}
		}
		if c.Cookie == "" && defaulted {
			harness := ""
			if params.Name == "regtest" {
				harness = "no node from 'btcstake regtest start', "
			}
			return c, "", usagef("rpc-url", "no node configured: %sno --rpc-url, and no bitcoind cookie at %s; pass --rpc-url and credentials, set BTCSTAKE_RPC_URL, or write a config file (docs/cli.md, \"Node connection\")", harness, cookie)
		}
	}
	if c.Cookie != "" && c.Pass == "" {
		u, p, err := chain.ReadCookie(c.Cookie)
		if err != nil {
			return c, "", usagef("rpc-cookie", "%v", err)
		}
		filesRead = append(filesRead, c.Cookie)
		c.User, c.Pass = u, p
	}
	return c, src, nil
}

// maxSignetChallenge bounds --signet-challenge (a script: 10,000 bytes at
// most).
const maxSignetChallenge = 10_000

// chainParams is the chain the node must follow: --network's, or for
// --signet-challenge the custom signet of that challenge (the default
// signet's genesis block, its own network magic).
func chainParams(a *app, cfg nodeConfig) (*chaincfg.Params, error) {
	params, err := a.params()
	if err != nil || cfg.SignetChallenge == "" {
		return params, err
	}
	ch, err := hex.DecodeString(cfg.SignetChallenge)
	if err != nil || len(ch) == 0 || len(ch) > maxSignetChallenge {
		return nil, usagef("signet-challenge", "not a script in hex (1 to %d bytes)", maxSignetChallenge)
	}
	custom := chaincfg.CustomSignetParams(ch, nil)
	custom.Net = chain.SignetMagic(ch)
	return &custom, nil
}

// connect resolves the connection settings, and checks that the node
// follows --network (chain name, genesis block, and for a signet its
// challenge) before any command sends it anything.
func (f *nodeFlags) connect(ctx context.Context, a *app) (*chain.Client, error) {
	c, _, err := f.connectChain(ctx, a)
	return c, err
}

// connectChain is connect that also returns the chain the node was
// checked against (--network's, or a custom signet's), for a caller that
// checks it again later (the watcher does, on every start).
func (f *nodeFlags) connectChain(ctx context.Context, a *app) (*chain.Client, *chaincfg.Params, error) {
	cfg, src, err := f.resolve(a)
	if err != nil {
		return nil, nil, err
	}
	params, err := chainParams(a, cfg)
	if err != nil {
		return nil, nil, err
	}
	c, err := chain.New(chain.Config{URL: cfg.URL, User: cfg.User, Pass: cfg.Pass})
	if err != nil {
		return nil, nil, usagef("rpc-url", "%v", err)
	}
	if err := c.CheckNetwork(ctx, params); err != nil {
		switch {
		case errors.Is(err, chain.ErrWrongChain):
			return nil, nil, fmt.Errorf("%v (from %s); refusing to talk to it with --network %s", err, src, a.network)
		case errors.Is(err, chain.ErrUnconfirmedChain):
			return nil, nil, fmt.Errorf("%v (from %s); refusing to talk to it until it can be shown to follow --network %s", err, src, a.network)
		}
		return nil, nil, nodeError(c, err)
	}
	return c, params, nil
}

// nodeError says in plain words why a call to the node failed.
func nodeError(c *chain.Client, err error) error {
	switch {
	case errors.Is(err, chain.ErrAuth):
		return fmt.Errorf("the node at %s refused the RPC credentials (check --rpc-user/--rpc-pass or the cookie)", c.URL())
	case errors.Is(err, chain.ErrUnreachable):
		return fmt.Errorf("cannot reach a node at %s (is it running? check --rpc-url)", c.URL())
	case errors.Is(err, chain.ErrTimeout):
		return fmt.Errorf("the node at %s did not answer in time: %v", c.URL(), err)
	case errors.Is(err, chain.ErrBadReply):
		return fmt.Errorf("the server at %s does not answer like a Bitcoin node (check --rpc-url): %v", c.URL(), err)
	}
	return fmt.Errorf("node at %s: %v", c.URL(), err)
}

// rejectionText explains a node's refusal of a transaction in plain words.
func rejectionText(rej *chain.RejectError) string {
	var plain string
	switch {
	case errors.Is(rej, chain.ErrSequenceLock), errors.Is(rej, chain.ErrNonFinal):
		plain = "a time lock has not expired yet: the spent output is not deep enough for this path (wait for more blocks)"
	case errors.Is(rej, chain.ErrImmatureCoinbase):
		plain = "it spends a coinbase output that needs 100 confirmations"
	case errors.Is(rej, chain.ErrScriptFailure):
		plain = "a signature or script check failed: a missing or wrong signature, the wrong key, or the wrong spend path"
	case errors.Is(rej, chain.ErrFeeTooLow):
		plain = "the fee is too low for the node's relay policy"
	case errors.Is(rej, chain.ErrFeeTooHigh):
		plain = "the fee rate is above the node's maximum (a mistake in the fee?)"
	case errors.Is(rej, chain.ErrNonStandard):
		plain = "the node's policy refuses it as non-standard (a dust output, an unusual script, or too large)"
	case errors.Is(rej, chain.ErrDoubleSpend):
		plain = "it conflicts with a transaction already in the mempool or the chain"
	case errors.Is(rej, chain.ErrMissingInputs):
		plain = "it spends outputs the node does not know or that are already spent"
	case errors.Is(rej, chain.ErrAlreadyKnown):
		plain = "the node already has this transaction"
	default:
		plain = "the node refused it"
	}
	return fmt.Sprintf("%s (node: %s)", plain, rej.Reason)
}
