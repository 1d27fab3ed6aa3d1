// Package rpc is a small JSON-RPC 1.0 client for btcd and bitcoind, shared
// by the regtest harness and the CLI's node commands. It does not retry:
// a refused connection fails at once, so callers decide how long to wait.
package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"time"
)

// ErrTransport marks a failure to reach the node or to read its reply
// (connection refused, timeout, wrong credentials, not JSON).
var ErrTransport = errors.New("rpc transport error")

// Error is an error object returned by the node.
type Error struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return fmt.Sprintf("rpc error %d: %s", e.Code, e.Message) }

// StatusError is an HTTP reply without a JSON-RPC body (bitcoind answers
// wrong credentials with 401 and an empty body, for example). It comes
// wrapped in ErrTransport.
type StatusError struct {
	Code   int    // HTTP status code
	Status string // "401 Unauthorized"
}

func (e *StatusError) Error() string { return "http " + e.Status }

// Client calls one node. It is safe for concurrent use.
type Client struct {
	url, user, pass string
	http            *http.Client
	id              atomic.Uint64
}

// New returns a client for url (http://host:port/) with basic auth. It
// never uses an HTTP proxy: nodes are reached directly.
func New(url, user, pass string) *Client {
	return &Client{
		url: url, user: user, pass: pass,
		http: &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 4}},
	}
}

// URL is the endpoint the client calls.
func (c *Client) URL() string { return c.url }

// Call runs one RPC with an optional timeout. Transport failures wrap
// ErrTransport together with the cause (a net.Error, a context error, a
// *StatusError), so callers can tell a refused connection from a timeout;
// an error object from the node is returned as *Error.
func (c *Client) Call(ctx context.Context, timeout time.Duration, method string, params ...any) (json.RawMessage, error) {
	if params == nil {
		params = []any{}
	}
	body, err := json.Marshal(map[string]any{"jsonrpc": "1.0", "id": c.id.Add(1), "method": method, "params": params})
	if err != nil {
		return nil, fmt.Errorf("%w: %s: encoding request: %v", ErrTransport, method, err)
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrTransport, method, err)
	}
	req.SetBasicAuth(c.user, c.pass)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrTransport, method, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: reading reply: %w", ErrTransport, method, err)
	}
	var reply struct {
		Result json.RawMessage `json:"result"`
		Error  *Error          `json:"error"`
	}
	if err := json.Unmarshal(data, &reply); err != nil {
		// bitcoind answers 401 with an empty body, for example.
		return nil, fmt.Errorf("%w: %s: %w", ErrTransport, method, &StatusError{Code: resp.StatusCode, Status: resp.Status})
	}
	if reply.Error != nil {
		return nil, reply.Error
	}
	return reply.Result, nil
}

// Close releases idle connections.
func (c *Client) Close() { c.http.CloseIdleConnections() }
