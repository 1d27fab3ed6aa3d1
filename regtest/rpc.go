package regtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"time"
)

// rpcCaller speaks JSON-RPC 1.0 over HTTP POST to btcd or bitcoind. The
// harness uses it instead of rpcclient for its own calls because
// rpcclient's POST mode retries a refused connection ten times with a
// growing back-off, which would turn a dead node into a half-minute hang
// and makes readiness polling coarse. Client() still offers an rpcclient.
type rpcCaller struct {
	url, user, pass string
	http            *http.Client
	id              atomic.Uint64
}

func newRPCCaller(host, user, pass string) *rpcCaller {
	return &rpcCaller{
		url:  "http://" + host + "/",
		user: user,
		pass: pass,
		http: &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 4}},
	}
}

// rpcError is an error object returned by the node.
type rpcError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func (e *rpcError) Error() string { return fmt.Sprintf("rpc error %d: %s", e.Code, e.Message) }

// call runs one RPC. A transport failure or an undecodable reply is
// returned wrapped in ErrRPC; an error object from the node is returned as
// *rpcError (callers classify it).
func (c *rpcCaller) call(ctx context.Context, timeout time.Duration, method string, params ...any) (json.RawMessage, error) {
	if params == nil {
		params = []any{}
	}
	body, err := json.Marshal(map[string]any{"jsonrpc": "1.0", "id": c.id.Add(1), "method": method, "params": params})
	if err != nil {
		return nil, fmt.Errorf("%w: %s: encoding request: %v", ErrRPC, method, err)
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrRPC, method, err)
	}
	req.SetBasicAuth(c.user, c.pass)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrRPC, method, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: reading reply: %v", ErrRPC, method, err)
	}
	var reply struct {
		Result json.RawMessage `json:"result"`
		Error  *rpcError       `json:"error"`
	}
	if err := json.Unmarshal(data, &reply); err != nil {
		// bitcoind answers 401 with an empty body, for example.
		return nil, fmt.Errorf("%w: %s: http %s", ErrRPC, method, resp.Status)
	}
	if reply.Error != nil {
		return nil, reply.Error
	}
	return reply.Result, nil
}

func (c *rpcCaller) close() { c.http.CloseIdleConnections() }
