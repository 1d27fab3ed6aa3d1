package chain

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"

	"github.com/btcstake/btcstake/internal/rpc"
)

// DefaultCallTimeout bounds one RPC when Config leaves CallTimeout at zero.
const DefaultCallTimeout = 30 * time.Second

// Config says how to reach a node. URL is required; a zero CallTimeout
// means DefaultCallTimeout.
type Config struct {
	// URL is host:port or http://host:port (a path is ignored).
	URL string
	// User and Pass are the RPC credentials (see ReadCookie for bitcoind's
	// cookie file). They never appear in errors.
	User, Pass string
	// CallTimeout bounds each call; the caller's context bounds the whole
	// operation (a wait, a block scan).
	CallTimeout time.Duration
}

// Client is a typed JSON-RPC client for btcd or bitcoind. It is safe for
// concurrent use. Every method takes a context; a method that fails
// returns an error of one of the package's kinds (see ErrUnreachable).
type Client struct {
	c       *rpc.Client
	url     string
	timeout time.Duration

	mu      sync.Mutex
	txIndex TxIndexState // once known (TxIndex)
}

// NormalizeURL turns host:port or http://host:port[/path] into
// http://host:port/. Only plain http is accepted: the nodes' RPC servers
// speak it (btcd's TLS aside); keep them on loopback or tunnel them.
func NormalizeURL(s string) (string, error) {
	raw := s
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	if authority, _, _ := strings.Cut(s[strings.Index(s, "://")+3:], "/"); strings.Contains(authority, "@") {
		// user:password@host: the password must not reach an error
		// message (nor, better, the command line): never echo the URL.
		return "", fmt.Errorf("%w: the URL carries credentials (user:password@host; not shown here): give them as the RPC user and password, a password file or a cookie instead", ErrInvalidArgument)
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil {
		return "", fmt.Errorf("%w: %q is not host:port or http://host:port", ErrInvalidArgument, raw)
	}
	if u.Scheme != "http" {
		return "", fmt.Errorf("%w: scheme %q is not supported (the node RPC speaks plain http; tunnel it for remote use)", ErrInvalidArgument, u.Scheme)
	}
	if _, port, err := net.SplitHostPort(u.Host); err != nil || port == "" {
		return "", fmt.Errorf("%w: %q has no port", ErrInvalidArgument, raw)
	}
	return "http://" + u.Host + "/", nil
}

// New returns a client for the node cfg describes. It does not connect:
// the first call does.
func New(cfg Config) (*Client, error) {
	u, err := NormalizeURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	t := cfg.CallTimeout
	if t < 0 {
		return nil, fmt.Errorf("%w: negative call timeout", ErrInvalidArgument)
	}
	if t == 0 {
		t = DefaultCallTimeout
	}
	return &Client{c: rpc.New(u, cfg.User, cfg.Pass), url: u, timeout: t}, nil
}

// URL is the node's endpoint, http://host:port/.
func (c *Client) URL() string { return c.url }

// Close releases idle connections. The client stays usable.
func (c *Client) Close() { c.c.Close() }

// Call runs one raw RPC and returns its result. Errors carry the package's
// kinds: an error object from the node is ErrRPC (with the node's code and
// message, also reachable as *RPCError), transport failures are
// ErrUnreachable, ErrAuth, ErrTimeout or ErrBadReply.
func (c *Client) Call(ctx context.Context, method string, params ...any) (json.RawMessage, error) {
	res, err := c.call(ctx, method, params...)
	if err != nil {
		return nil, c.callError(method, err)
	}
	return res, nil
}

// RPCError is the error object a node returned, reachable with errors.As
// from an ErrRPC or ErrNotFound error.
type RPCError = rpc.Error

func (c *Client) call(ctx context.Context, method string, params ...any) (json.RawMessage, error) {
	res, err := c.c.Call(ctx, c.timeout, method, params...)
	if err != nil && errors.Is(err, rpc.ErrTransport) {
		return nil, c.transportError(ctx, method, err)
	}
	return res, err
}

// transportError gives a transport failure its kind. The caller's context
// ending is a timeout (never "unreachable"), as is a call that outlasts the
// call timeout.
func (c *Client) transportError(ctx context.Context, method string, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("%w: %s to %s: %w", ErrTimeout, method, c.url, cerr)
	}
	var se *rpc.StatusError
	var ne net.Error
	switch {
	case errors.As(err, &se) && (se.Code == http.StatusUnauthorized || se.Code == http.StatusForbidden):
		return fmt.Errorf("%w: %s answered %s to %s", ErrAuth, c.url, se.Status, method)
	case errors.As(err, &se):
		return fmt.Errorf("%w: %s answered %s to %s without a JSON-RPC body", ErrBadReply, c.url, se.Status, method)
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return fmt.Errorf("%w: the node at %s did not answer %s within %s", ErrTimeout, c.url, method, c.timeout)
	}
	var oe *net.OpError
	var de *net.DNSError
	if errors.As(err, &oe) || errors.As(err, &de) {
		return fmt.Errorf("%w at %s: %s: %v", ErrUnreachable, c.url, method, err)
	}
	// Anything else on the wire: a connection dropped mid-reply, a reply
	// that does not read.
	return fmt.Errorf("%w: %s: %s: %v", ErrBadReply, c.url, method, err)
}

// callError gives an error object of the node its kind (ErrRPC); other
// errors are already classified.
func (c *Client) callError(method string, err error) error {
	var re *rpc.Error
	if errors.As(err, &re) {
		return fmt.Errorf("%w: %s: %s (code %d): %w", ErrRPC, method, re.Message, re.Code, re)
	}
	return err
}

// notFound classifies the error of a lookup: the node's "no such
// transaction/block/height" is ErrNotFound naming what, other error
// objects ErrRPC.
func (c *Client) notFound(method, what string, err error) error {
	var re *rpc.Error
	if errors.As(err, &re) && (re.Code == codeNotFound || re.Code == codeInvalidParameter ||
		strings.Contains(strings.ToLower(re.Message), "out of range")) {
		return fmt.Errorf("%w: %s: %s: %w", ErrNotFound, what, re.Message, re)
	}
	return c.callError(method, err)
}

// into runs a call and decodes its result into out.
func (c *Client) into(ctx context.Context, out any, method string, params ...any) error {
	res, err := c.call(ctx, method, params...)
	if err != nil {
		return c.callError(method, err)
	}
	return decode(res, out, method)
}

func decode(res json.RawMessage, out any, method string) error {
	if err := json.Unmarshal(res, out); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrBadReply, method, err)
	}
	return nil
}

func parseHash(s, method string) (chainhash.Hash, error) {
	if len(s) != 2*chainhash.HashSize {
		return chainhash.Hash{}, fmt.Errorf("%w: %s: %q is not a hash", ErrBadReply, method, s)
	}
	h, err := chainhash.NewHashFromStr(s)
	if err != nil {
		return chainhash.Hash{}, fmt.Errorf("%w: %s: %q is not a hash", ErrBadReply, method, s)
	}
	return *h, nil
}
