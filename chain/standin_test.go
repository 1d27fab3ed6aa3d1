package chain

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/wire/v2"
)

// answer is a stand-in's reply to one call: a result, or an error object
// when code is not 0.
type answer struct {
	result any
	code   int
	msg    string
}

func ok(v any) answer                  { return answer{result: v} }
func fail(code int, msg string) answer { return answer{code: code, msg: msg} }

// standIn answers JSON-RPC 1.0 like btcd or bitcoind (basic auth; error
// objects with HTTP 500 as Bitcoin Core sends them; 401 with an empty body
// for wrong credentials). Each method is answered by a function of its
// parameters; an unknown method is -32601, as on both nodes.
type standIn struct {
	t       *testing.T
	mu      sync.Mutex
	methods map[string]func(params []json.RawMessage) answer
	calls   []string
	srv     *httptest.Server
}

func newStandIn(t *testing.T, methods map[string]func([]json.RawMessage) answer) *standIn {
	t.Helper()
	s := &standIn{t: t, methods: methods}
	s.srv = httptest.NewServer(s)
	t.Cleanup(s.srv.Close)
	return s
}

func (s *standIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if u, p, ok := r.BasicAuth(); !ok || u != "u" || p != "p" {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var req struct {
		Method string            `json:"method"`
		Params []json.RawMessage `json:"params"`
		ID     any               `json:"id"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		s.t.Errorf("bad request: %v", err)
		return
	}
	s.mu.Lock()
	s.calls = append(s.calls, req.Method)
	fn := s.methods[req.Method]
	s.mu.Unlock()
	a := fail(-32601, "Method not found")
	if fn != nil {
		a = fn(req.Params)
	}
	resp := map[string]any{"id": req.ID, "result": a.result, "error": nil}
	if a.code != 0 {
		resp["result"] = nil
		resp["error"] = map[string]any{"code": a.code, "message": a.msg}
		w.WriteHeader(http.StatusInternalServerError)
	}
	_ = json.NewEncoder(w).Encode(resp)
}

func (s *standIn) called(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, m := range s.calls {
		if m == method {
			n++
		}
	}
	return n
}

// client returns a client for the stand-in with the right credentials.
func (s *standIn) client(t *testing.T) *Client {
	t.Helper()
	c, err := New(Config{URL: s.srv.URL, User: "u", Pass: "p", CallTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// param decodes the i-th parameter of a call.
func param[T any](t *testing.T, ps []json.RawMessage, i int) T {
	t.Helper()
	var v T
	if i >= len(ps) {
		t.Errorf("missing parameter %d", i)
		return v
	}
	if err := json.Unmarshal(ps[i], &v); err != nil {
		t.Errorf("parameter %d: %v", i, err)
	}
	return v
}

// testTx is a small transaction; n varies its id.
func testTx(n uint32) *wire.MsgTx {
	tx := wire.NewMsgTx(2)
	tx.AddTxIn(wire.NewTxIn(&wire.OutPoint{Index: n}, nil, nil))
	tx.AddTxOut(wire.NewTxOut(10_000, append([]byte{0x00, 0x14}, bytes.Repeat([]byte{byte(n)}, 20)...)))
	return tx
}

func txHexOf(t *testing.T, tx *wire.MsgTx) string {
	t.Helper()
	var b bytes.Buffer
	if err := tx.Serialize(&b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b.Bytes())
}

func hashOf(n byte) string { return strings.Repeat("0", 62) + hex.EncodeToString([]byte{n}) }
