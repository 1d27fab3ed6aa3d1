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

// TestProgressFromStore: Progress starts at the stored cursor (a service
// restarted at the tip reports its height, not 0, and no lag), says
// CaughtUp only once the node's height was asked, and after a
// reorganisation names the block the cursor went back to.
func TestProgressFromStore(t *testing.T) {
	n := newFakeNode()
	n.mineEmpty(6)
	path := dbPath(t)
	cfg := testConfig(n, &recorder{})
	cfg.StartHeight = 3
	w := openTest(t, path, cfg)
	if p := w.Progress(); p != (Progress{Height: 2, Tip: 2}) {
		t.Fatalf("new store: %+v", p)
	}
	catchUp(t, w, 5)
	if p := w.Progress(); p.Height != 5 || p.BlockHash != n.blocks[5].BlockHash().String() || p.Tip != 6 || p.CaughtUp {
		t.Fatalf("at 5 of 6: %+v", p)
	}
	catchUp(t, w, 6)
	if p := w.Progress(); p.Height != 6 || p.Tip != 6 || !p.CaughtUp {
		t.Fatalf("at the tip: %+v", p)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	w = openTest(t, path, cfg)
	want := Progress{Height: 6, BlockHash: n.blocks[6].BlockHash().String(), Tip: 6}
	if p := w.Progress(); p != want {
		t.Fatalf("reopened: %+v, want %+v (the tip is not asked yet)", p, want)
	}
	catchUp(t, w, 6)
	if p := w.Progress(); p.Height != 6 || p.Tip != 6 || !p.CaughtUp {
		t.Fatalf("reopened, then asked: %+v", p)
	}
	// The node's chain loses its last two blocks: the cursor goes back
	// to block 4, and Progress names it.
	n.reorg(2)
	catchUp(t, w, 4)
	if p := w.Progress(); p.Height != 4 || p.BlockHash != n.blocks[4].BlockHash().String() || p.Tip != 4 {
		t.Fatalf("after the reorganisation: %+v", p)
	}
}
