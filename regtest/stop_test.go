package regtest

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"
)

// TestStopConcurrent: a Stop that races another one in progress (a
// signal handler and a deferred Stop) returns only when the node is gone
// and its directory removed, and both report the same result.
func TestStopConcurrent(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	n, err := Start(ctx, Options{InitialBlocks: -1, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Stop() })
	dir, pid := n.Dir(), n.Pid()
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() {
			errs[i] = n.Stop()
			// Whichever call returns, the node is already gone.
			if processAlive(pid) {
				t.Errorf("Stop %d returned while the node process is alive", i)
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("Stop %d returned before %s was removed: %v", i, dir, err)
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Stop %d: %v", i, err)
		}
	}
}
