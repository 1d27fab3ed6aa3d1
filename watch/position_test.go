package watch

import (
	"testing"

	"github.com/btcsuite/btcd/chainhash/v2"
)

// TestCursorAndStartHeight: a new store's cursor is the block before its
// start; it follows the blocks processed, survives a reopen, and a later
// Open's StartHeight changes neither.
func TestCursorAndStartHeight(t *testing.T) {
	n := newFakeNode()
	n.mineEmpty(6)
	path := dbPath(t)
	cfg := testConfig(n, &recorder{})
	cfg.StartHeight = 3
	w := openTest(t, path, cfg)
	if h, hash := w.Cursor(); h != 2 || hash != (chainhash.Hash{}) || w.StartHeight() != 3 {
		t.Fatalf("new store: cursor %d %s, start %d", h, hash, w.StartHeight())
	}
	catchUp(t, w, 5)
	if h, hash := w.Cursor(); h != 5 || hash != n.blocks[5].BlockHash() {
		t.Fatalf("after block 5: cursor %d %s", h, hash)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	cfg.StartHeight = 1
	w = openTest(t, path, cfg)
	if h, hash := w.Cursor(); h != 5 || hash != n.blocks[5].BlockHash() || w.StartHeight() != 3 {
		t.Fatalf("reopened: cursor %d %s, start %d", h, hash, w.StartHeight())
	}
}
