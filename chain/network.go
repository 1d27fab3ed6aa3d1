package chain

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
)

// ChainInfo is what getblockchaininfo says about the node's chain.
type ChainInfo struct {
	// Chain is the node's own name for its chain: bitcoind says "main",
	// "test", "testnet4", "signet", "regtest"; btcd says "mainnet",
	// "testnet3", "testnet4", "signet", "regtest", "simnet".
	Chain string
	// Network is Chain in chaincfg's spelling ("mainnet", "testnet3",
	// "testnet4", "signet", "regtest", "simnet"), "" when unknown.
	Network string
	// Blocks is the height of the tip, BestBlock its hash.
	Blocks    int64
	BestBlock chainhash.Hash
}

// NetworkName maps a node's chain name (either node's spelling) to
// chaincfg's network name, or "" when it names no chain this package
// knows.
func NetworkName(chain string) string {
	switch strings.ToLower(chain) {
	case "main", "mainnet":
		return chaincfg.MainNetParams.Name
	case "test", "testnet", "testnet3":
		return chaincfg.TestNet3Params.Name
	case "testnet4":
		return chaincfg.TestNet4Params.Name
	case "signet":
		return chaincfg.SigNetParams.Name
	case "regtest":
		return chaincfg.RegressionNetParams.Name
	case "simnet":
		return chaincfg.SimNetParams.Name
	}
	return ""
}

// ChainInfo asks the node which chain it follows and where its tip is.
func (c *Client) ChainInfo(ctx context.Context) (ChainInfo, error) {
	var v struct {
		Chain         string `json:"chain"`
		Blocks        int64  `json:"blocks"`
		BestBlockHash string `json:"bestblockhash"`
	}
	if err := c.into(ctx, &v, "getblockchaininfo"); err != nil {
		return ChainInfo{}, err
	}
	best, err := parseHash(v.BestBlockHash, "getblockchaininfo")
	if err != nil {
		return ChainInfo{}, err
	}
	return ChainInfo{Chain: v.Chain, Network: NetworkName(v.Chain), Blocks: v.Blocks, BestBlock: best}, nil
}

// CheckNetwork returns nil when the node follows net's chain, and an
// ErrWrongChain error naming both chains otherwise. Any signet counts as
// signet (nodes do not say which challenge they follow).
func (c *Client) CheckNetwork(ctx context.Context, net *chaincfg.Params) error {
	if net == nil {
		return fmt.Errorf("%w: no network", ErrInvalidArgument)
	}
	info, err := c.ChainInfo(ctx)
	if err != nil {
		return err
	}
	if info.Network == "" || info.Network != net.Name {
		return fmt.Errorf("%w: the node at %s follows %q, not %s", ErrWrongChain, c.url, info.Chain, net.Name)
	}
	return nil
}

// DefaultRPCPort is bitcoind's default RPC port on net: 8332 (mainnet),
// 18332 (testnet3), 48332 (testnet4), 38332 (signet), 18443 (regtest).
func DefaultRPCPort(net *chaincfg.Params) (int, error) {
	if net != nil {
		switch net.Name {
		case chaincfg.MainNetParams.Name:
			return 8332, nil
		case chaincfg.TestNet3Params.Name:
			return 18332, nil
		case chaincfg.TestNet4Params.Name:
			return 48332, nil
		case chaincfg.SigNetParams.Name:
			return 38332, nil
		case chaincfg.RegressionNetParams.Name:
			return 18443, nil
		}
	}
	return 0, fmt.Errorf("%w: bitcoind has no default RPC port for this network", ErrInvalidArgument)
}

// networkSubdir is the directory under bitcoind's data directory that
// holds a network's files ("" for mainnet).
func networkSubdir(net *chaincfg.Params) (string, error) {
	if net != nil {
		switch net.Name {
		case chaincfg.MainNetParams.Name:
			return "", nil
		case chaincfg.TestNet3Params.Name:
			return "testnet3", nil
		case chaincfg.TestNet4Params.Name:
			return "testnet4", nil
		case chaincfg.SigNetParams.Name:
			return "signet", nil
		case chaincfg.RegressionNetParams.Name:
			return "regtest", nil
		}
	}
	return "", fmt.Errorf("%w: bitcoind has no data directory for this network", ErrInvalidArgument)
}

// DefaultDataDir is bitcoind's default data directory for this user:
// ~/.bitcoin on Linux and the BSDs, ~/Library/Application Support/Bitcoin
// on macOS, and on Windows %APPDATA%\Bitcoin when it exists (Bitcoin Core
// before 28) else %LOCALAPPDATA%\Bitcoin.
func DefaultDataDir() (string, error) {
	home, err := os.UserHomeDir()
	switch runtime.GOOS {
	case "windows":
		if d := os.Getenv("APPDATA"); d != "" {
			if fi, err := os.Stat(filepath.Join(d, "Bitcoin")); err == nil && fi.IsDir() {
				return filepath.Join(d, "Bitcoin"), nil
			}
		}
		if d := os.Getenv("LOCALAPPDATA"); d != "" {
			return filepath.Join(d, "Bitcoin"), nil
		}
	case "darwin", "ios":
		if err == nil {
			return filepath.Join(home, "Library", "Application Support", "Bitcoin"), nil
		}
	default:
		if err == nil {
			return filepath.Join(home, ".bitcoin"), nil
		}
	}
	return "", fmt.Errorf("%w: no home directory to find bitcoind's data directory in", ErrInvalidArgument)
}

// CookiePath is where bitcoind writes its RPC cookie for net under
// dataDir ("" means DefaultDataDir): dataDir/.cookie on mainnet,
// dataDir/testnet3/.cookie, dataDir/testnet4/.cookie,
// dataDir/signet/.cookie, dataDir/regtest/.cookie.
func CookiePath(dataDir string, net *chaincfg.Params) (string, error) {
	sub, err := networkSubdir(net)
	if err != nil {
		return "", err
	}
	if dataDir == "" {
		if dataDir, err = DefaultDataDir(); err != nil {
			return "", err
		}
	}
	return filepath.Join(dataDir, sub, ".cookie"), nil
}

// maxCookieSize bounds a cookie file read (bitcoind writes
// "__cookie__:" and 64 hex digits).
const maxCookieSize = 4096

// ReadCookie reads a bitcoind cookie file, user:password on one line. The
// password never appears in its errors.
func ReadCookie(path string) (user, pass string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", "", fmt.Errorf("%w: cookie file: %v", ErrInvalidArgument, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxCookieSize+1))
	if err != nil {
		return "", "", fmt.Errorf("%w: cookie file %s: %v", ErrInvalidArgument, path, err)
	}
	if len(b) > maxCookieSize {
		return "", "", fmt.Errorf("%w: %s is larger than a cookie file (%d bytes at most)", ErrInvalidArgument, path, maxCookieSize)
	}
	return ParseCookie(path, b)
}

// ParseCookie parses the contents of a cookie file; name is used in
// errors only.
func ParseCookie(name string, b []byte) (user, pass string, err error) {
	u, p, ok := strings.Cut(strings.TrimSpace(string(b)), ":")
	if !ok || u == "" || strings.ContainsAny(u, "\r\n") || strings.ContainsAny(p, "\r\n") {
		return "", "", fmt.Errorf("%w: %s is not a user:password cookie file", ErrInvalidArgument, name)
	}
	return u, p, nil
}
