package regtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/btcstake/btcstake/internal/rpc"
)

// rpcCaller speaks JSON-RPC 1.0 over HTTP POST to btcd or bitcoind through
// internal/rpc, which the CLI's node commands share. The harness uses it
// instead of rpcclient for its own calls because rpcclient's POST mode
// retries a refused connection ten times with a growing back-off, which
// would turn a dead node into a half-minute hang and makes readiness polling
// coarse. Client() still offers an rpcclient.
type rpcCaller struct{ c *rpc.Client }

func newRPCCaller(host, user, pass string) *rpcCaller {
	return &rpcCaller{rpc.New("http://"+host+"/", user, pass)}
}

// rpcError is an error object returned by the node.
type rpcError = rpc.Error

// call runs one RPC. A transport failure or an undecodable reply is
// returned wrapped in ErrRPC; an error object from the node is returned as
// *rpcError (callers classify it).
func (c *rpcCaller) call(ctx context.Context, timeout time.Duration, method string, params ...any) (json.RawMessage, error) {
	res, err := c.c.Call(ctx, timeout, method, params...)
	if errors.Is(err, rpc.ErrTransport) {
		return nil, fmt.Errorf("%w: %w", ErrRPC, err)
	}
	return res, err
}

func (c *rpcCaller) close() { c.c.Close() }
