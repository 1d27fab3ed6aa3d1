package regtest

import (
	"fmt"

	"github.com/btcstake/btcstake/chain"
)

// newChainClient returns the client the harness talks to its node
// through. Package chain speaks JSON-RPC 1.0 over HTTP POST via
// internal/rpc, which does not retry: rpcclient's POST mode retries a
// refused connection ten times with a growing back-off, which would turn a
// dead node into a half-minute hang and make readiness polling coarse.
func newChainClient(info RPCInfo) (*chain.Client, error) {
	c, err := chain.New(chain.Config{URL: info.Host, User: info.User, Pass: info.Pass, CallTimeout: rpcTimeout})
	if err != nil {
		return nil, fmt.Errorf("%w: rpc host: %w", ErrState, err)
	}
	return c, nil
}
