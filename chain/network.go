package chain

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/btcstake/btcstake/internal/inputfile"
	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
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
	// Headers is the height of the best header the node knows (btcd
	// reports Blocks).
	Headers int64
	// Pruned says the node discards old blocks; PruneHeight is then the
	// lowest height it still holds (bitcoind; 0 when the node does not say).
	Pruned      bool
	PruneHeight int64
	// SignetChallenge is the block challenge of a signet node, nil when
	// the node does not report one (any other chain, btcd, bitcoind
	// before 29.0).
	SignetChallenge []byte
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

// maxSignetChallenge bounds a signet challenge (a script: at most
// 10,000 bytes, the consensus limit on a script).
const maxSignetChallenge = 10_000

// ChainInfo asks the node which chain it follows and where its tip is.
func (c *Client) ChainInfo(ctx context.Context) (ChainInfo, error) {
	res, err := c.call(ctx, "getblockchaininfo")
	if err != nil {
		return ChainInfo{}, c.callError("getblockchaininfo", err)
	}
	return parseChainInfo(res)
}

// parseChainInfo reads getblockchaininfo's reply.
func parseChainInfo(res json.RawMessage) (ChainInfo, error) {
	var v struct {
		Chain           string `json:"chain"`
		Blocks          int64  `json:"blocks"`
		Headers         int64  `json:"headers"`
		BestBlockHash   string `json:"bestblockhash"`
		Pruned          bool   `json:"pruned"`
		PruneHeight     int64  `json:"pruneheight"`
		SignetChallenge string `json:"signet_challenge"`
	}
	if err := decode(res, &v, "getblockchaininfo"); err != nil {
		return ChainInfo{}, err
	}
	best, err := parseHash(v.BestBlockHash, "getblockchaininfo")
	if err != nil {
		return ChainInfo{}, err
	}
	if v.Blocks < 0 || v.Headers < 0 || v.PruneHeight < 0 {
		return ChainInfo{}, fmt.Errorf("%w: getblockchaininfo: negative height", ErrBadReply)
	}
	info := ChainInfo{Chain: v.Chain, Network: NetworkName(v.Chain), Blocks: v.Blocks, BestBlock: best,
		Headers: max(v.Headers, v.Blocks), Pruned: v.Pruned, PruneHeight: v.PruneHeight}
	if v.SignetChallenge != "" {
		if len(v.SignetChallenge) > 2*maxSignetChallenge {
			return ChainInfo{}, fmt.Errorf("%w: getblockchaininfo: signet_challenge longer than a script", ErrBadReply)
		}
		ch, err := hex.DecodeString(v.SignetChallenge)
		if err != nil {
			return ChainInfo{}, fmt.Errorf("%w: getblockchaininfo: signet_challenge is not hex", ErrBadReply)
		}
		info.SignetChallenge = ch
	}
	return info, nil
}

// defaultSignetBlock1 is the hash of block 1 of the default public signet
// (the block whose header Bitcoin Core's test/functional/feature_signet.py
// feeds its nodes first; its time is 2020-09-01, minutes after the genesis).
// Every signet shares the genesis block, so block 1 is the first that
// tells the default signet from a custom one.
var defaultSignetBlock1 = chainhash.Hash{
	0x53, 0x3b, 0x53, 0xde, 0xd9, 0xbf, 0xf4, 0xad, 0xc9, 0x41, 0x01, 0xd3,
	0x24, 0x00, 0xa1, 0x44, 0xc5, 0x4e, 0xdc, 0x5e, 0xd4, 0x92, 0xa3, 0xb2,
	0x6c, 0x63, 0xb2, 0xd6, 0x86, 0x00, 0x00, 0x00,
} // 00000086d6b2636cb2a392d45edc4ec544a10024d30141c9adf4bfd9de533b53

// SignetMagic is the network magic (message start) of the signet with
// the given block challenge, as Bitcoin Core derives it: the first four
// bytes of the double SHA-256 of the challenge serialized with its
// CompactSize length, read little-endian as chaincfg.Params.Net holds it.
// (chaincfg.CustomSignetParams writes the length as one byte, which agrees
// for challenges shorter than 253 bytes.)
func SignetMagic(challenge []byte) wire.BitcoinNet {
	var buf bytes.Buffer
	_ = wire.WriteVarBytes(&buf, 0, challenge) // a bytes.Buffer does not fail
	h := chainhash.DoubleHashB(buf.Bytes())
	return wire.BitcoinNet(binary.LittleEndian.Uint32(h[:4]))
}

// challengeText shows a signet challenge in an error: in full when short,
// else its length.
func challengeText(ch []byte) string {
	if len(ch) <= 80 {
		return fmt.Sprintf("%x", ch)
	}
	return fmt.Sprintf("of %d bytes", len(ch))
}

// CheckNetwork returns nil when the node follows net's chain, and an error
// otherwise, before the caller sends it anything else. It asks the node's
// chain name (getblockchaininfo) and its genesis block (getblockhash 0),
// and both must be net's: ErrWrongChain naming what differs.
//
// Every signet shares one genesis block, so for a signet the challenge
// decides, compared through its network magic (net.Net; chaincfg's
// SigNetParams is the default public signet, CustomSignetParams another):
//   - a node that reports its challenge (bitcoind 29.0 and later) must
//     report one of net's magic, else ErrWrongChain;
//   - a node that does not (btcd, older bitcoind) passes for the default
//     signet when its block 1 is that signet's (00000086d6b2...533b53),
//     and is ErrWrongChain
//     when it is another block. Without a block 1 to compare, or for a
//     custom signet, it cannot be told: ErrUnconfirmedChain.
func (c *Client) CheckNetwork(ctx context.Context, net *chaincfg.Params) error {
	if net == nil || net.GenesisHash == nil {
		return fmt.Errorf("%w: no network", ErrInvalidArgument)
	}
	info, err := c.ChainInfo(ctx)
	if err != nil {
		return err
	}
	if info.Network == "" || info.Network != net.Name {
		return fmt.Errorf("%w: the node at %s follows %q, not %s", ErrWrongChain, c.url, info.Chain, net.Name)
	}
	genesis, err := c.BlockHash(ctx, 0)
	if err != nil {
		return err
	}
	if genesis != *net.GenesisHash {
		return fmt.Errorf("%w: the node at %s calls its chain %q, but its genesis block is %s, not %s's %s",
			ErrWrongChain, c.url, info.Chain, genesis, net.Name, net.GenesisHash)
	}
	if net.Name != chaincfg.SigNetParams.Name {
		return nil
	}
	return c.checkSignet(ctx, info, net)
}

// signetName describes the signet of magic m.
func signetName(m wire.BitcoinNet) string {
	if m == chaincfg.SigNetParams.Net {
		return "the default public signet"
	}
	return fmt.Sprintf("the signet of network magic %08x", uint32(m))
}

func (c *Client) checkSignet(ctx context.Context, info ChainInfo, net *chaincfg.Params) error {
	want := net.Net
	if info.SignetChallenge != nil {
		if got := SignetMagic(info.SignetChallenge); got != want {
			return fmt.Errorf("%w: the node at %s follows the signet of challenge %s (%s), not %s",
				ErrWrongChain, c.url, challengeText(info.SignetChallenge), signetName(got), signetName(want))
		}
		return nil
	}
	if want != chaincfg.SigNetParams.Net {
		return fmt.Errorf("%w: the node at %s does not report its signet challenge (bitcoind 29.0 and later do), so it cannot be shown to follow %s",
			ErrUnconfirmedChain, c.url, signetName(want))
	}
	if info.Blocks < 1 {
		return fmt.Errorf("%w: the node at %s has no block after the genesis block, which every signet shares, and does not report its signet challenge: wait until it has synced",
			ErrUnconfirmedChain, c.url)
	}
	b1, err := c.BlockHash(ctx, 1)
	if err != nil {
		return err
	}
	if b1 != defaultSignetBlock1 {
		return fmt.Errorf("%w: the node at %s follows a custom signet (its block 1 is %s, not the default public signet's %s)",
			ErrWrongChain, c.url, b1, defaultSignetBlock1)
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
	if err != nil {
		home = ""
	}
	return dataDirFor(runtime.GOOS, home, os.Getenv, func(p string) bool {
		fi, err := os.Stat(p)
		return err == nil && fi.IsDir()
	})
}

// dataDirFor is DefaultDataDir for an operating system, a home directory
// ("" when unknown), the environment and a directory test.
func dataDirFor(goos, home string, getenv func(string) string, isDir func(string) bool) (string, error) {
	switch goos {
	case "windows":
		if d := getenv("APPDATA"); d != "" && isDir(filepath.Join(d, "Bitcoin")) {
			return filepath.Join(d, "Bitcoin"), nil
		}
		if d := getenv("LOCALAPPDATA"); d != "" {
			return filepath.Join(d, "Bitcoin"), nil
		}
	case "darwin", "ios":
		if home != "" {
			return filepath.Join(home, "Library", "Application Support", "Bitcoin"), nil
		}
	default:
		if home != "" {
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
// file must be a regular file (a pipe or a device is refused before it is
// read) of at most 4096 bytes, and others must have no access to it:
// bitcoind writes it 0600, or group-readable with -rpccookieperms=group to
// share it with a group, which is allowed. The password never appears in
// its errors.
func ReadCookie(path string) (user, pass string, err error) {
	b, err := inputfile.Read(path, inputfile.Options{Max: maxCookieSize, Forbid: inputfile.NotOthers})
	if err != nil {
		return "", "", fmt.Errorf("%w: cookie file: %v", ErrInvalidArgument, err)
	}
	defer clear(b)
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
