package watch

import "github.com/btcsuite/btcd/chainhash/v2"

// Cursor is the last block the store has processed: its height and hash
// (height StartHeight()-1 and the zero hash while nothing is processed
// yet). The `btcstake watch` subcommands that read a stopped store use it
// to say how far the store got and to count blocks left from there.
func (w *Watcher) Cursor() (int64, chainhash.Hash) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.cursorH, w.cursorHash
}

// StartHeight is the first height the store processed: Config.StartHeight
// when the store was created (a later Open's StartHeight is ignored).
func (w *Watcher) StartHeight() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.start
}
