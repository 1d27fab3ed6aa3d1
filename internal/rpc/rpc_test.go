package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// fakeNode answers like btcd: basic auth, JSON-RPC 1.0 replies.
func fakeNode(t *testing.T) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "u" || p != "p" {
			http.Error(w, "401 Unauthorized.", http.StatusUnauthorized)
			return
		}
		var req struct {
			Method string `json:"method"`
			Params []any  `json:"params"`
			ID     uint64 `json:"id"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			t.Errorf("bad request: %v", err)
			return
		}
		switch req.Method {
		case "getblockcount":
			_ = json.NewEncoder(w).Encode(map[string]any{"result": 110, "error": nil, "id": req.ID})
		case "echo":
			_ = json.NewEncoder(w).Encode(map[string]any{"result": req.Params, "error": nil, "id": req.ID})
		case "slow":
			time.Sleep(200 * time.Millisecond) // the server side of a timeout test
			_ = json.NewEncoder(w).Encode(map[string]any{"result": 1, "error": nil, "id": req.ID})
		case "garbage":
			_, _ = w.Write([]byte("<html>not json</html>"))
		default:
			_ = json.NewEncoder(w).Encode(map[string]any{"result": nil,
				"error": map[string]any{"code": -32601, "message": "Method not found"}, "id": req.ID})
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func TestCall(t *testing.T) {
	s := fakeNode(t)
	c := New(s.URL+"/", "u", "p")
	defer c.Close()
	ctx := context.Background()

	res, err := c.Call(ctx, time.Second, "getblockcount")
	if err != nil || string(res) != "110" {
		t.Fatalf("getblockcount: %s, %v", res, err)
	}
	res, err = c.Call(ctx, time.Second, "echo", "a", 2, []string{"x"})
	if err != nil || string(res) != `["a",2,["x"]]` {
		t.Fatalf("params not passed through: %s, %v", res, err)
	}
	// An error object from the node is an *Error, not a transport error.
	_, err = c.Call(ctx, time.Second, "nosuchmethod")
	var re *Error
	if !errors.As(err, &re) || re.Code != -32601 || errors.Is(err, ErrTransport) {
		t.Fatalf("node error: %v", err)
	}
	// A reply without a JSON body keeps its HTTP status for the caller.
	_, err = New(s.URL+"/", "u", "wrong").Call(ctx, time.Second, "getblockcount")
	var se *StatusError
	if !errors.As(err, &se) || se.Code != http.StatusUnauthorized {
		t.Fatalf("401: %v", err)
	}
	// A timeout keeps its cause.
	if _, err = c.Call(ctx, 20*time.Millisecond, "slow"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("timeout: %v does not wrap context.DeadlineExceeded", err)
	}
	// Transport failures: wrong credentials, a reply that is not JSON, a
	// timeout, nothing listening.
	for name, call := range map[string]func() error{
		"wrong password": func() error {
			_, err := New(s.URL+"/", "u", "wrong").Call(ctx, time.Second, "getblockcount")
			return err
		},
		"not json": func() error { _, err := c.Call(ctx, time.Second, "garbage"); return err },
		"timeout":  func() error { _, err := c.Call(ctx, 20*time.Millisecond, "slow"); return err },
		"refused": func() error {
			closed := httptest.NewServer(http.NotFoundHandler())
			url := closed.URL
			closed.Close()
			_, err := New(url+"/", "u", "p").Call(ctx, time.Second, "getblockcount")
			return err
		},
	} {
		t.Run(name, func(t *testing.T) {
			if err := call(); !errors.Is(err, ErrTransport) {
				t.Fatalf("got %v, want ErrTransport", err)
			}
		})
	}
}
