package benchchain

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/btcstake/btcstake/chain"
	"github.com/btcstake/btcstake/regtest"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

// BenchmarkFetchDecodeBlocks is the bare loop over the shared chain's
// load (FetchDecode, one pass over every block per iteration): the limit
// the node sets for any follower. It reports blocks/s, this process's
// peak RSS over the passes and the node's peak RSS.
func BenchmarkFetchDecodeBlocks(b *testing.B) {
	c, err := Get()
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if err := ResetPeakRSS(); err != nil {
		b.Logf("peak RSS covers the chain generation too: %v", err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	blocks, txs := 0, 0
	for range b.N {
		st, err := c.Baseline(ctx)
		if err != nil {
			b.Fatal(err)
		}
		blocks += st.Blocks
		txs += st.Txs
	}
	b.StopTimer()
	b.ReportMetric(float64(blocks)/b.Elapsed().Seconds(), "blocks/s")
	b.ReportMetric(float64(txs)/b.Elapsed().Seconds(), "txs/s")
	if peak, err := PeakRSS(); err == nil {
		b.ReportMetric(float64(peak)/(1<<20), "peak-rss-MB")
	}
	if _, peak, err := ProcessRSS(c.Node.Pid()); err == nil {
		b.ReportMetric(float64(peak)/(1<<20), "node-peak-rss-MB")
	}
}

// TestFetchDecode runs the loop over a small load on a node of its own
// and checks it read every block and transaction the node has there, as
// the node's blocks (read one by one) count them.
func TestFetchDecode(t *testing.T) {
	n := regtest.NewTestNode(t, regtest.Options{NoTxIndex: true})
	s, err := regtest.NewScenario(n, regtest.ScenarioConfig{Seed: time.Now().UnixNano(), FinalityProviders: 2})
	if err != nil {
		t.Fatal(err)
	}
	load, err := s.GenerateLoad(regtest.LoadConfig{Blocks: 5, TxsPerBlock: 20, Stakes: 7, SpendEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for h := load.From; h <= load.To; h++ {
		b, err := n.BlockAt(h)
		if err != nil {
			t.Fatal(err)
		}
		want += len(b.Transactions)
	}
	if want != 5*21+7 {
		t.Fatalf("the node holds %d transactions in the load, want %d", want, 5*21+7)
	}
	ctx := context.Background()
	st, err := FetchDecode(ctx, n.Chain(), int64(load.From), int64(load.To))
	if err != nil {
		t.Fatal(err)
	}
	if st.Blocks != 5 || st.Txs != want || st.Elapsed <= 0 || st.BlocksPerSecond() <= 0 {
		t.Fatalf("loop read %+v, want 5 blocks and %d txs", st, want)
	}
	// The whole chain from genesis: one block more than the tip height.
	all, err := FetchDecode(ctx, n.Chain(), 0, int64(load.To))
	if err != nil || all.Blocks != int(load.To)+1 {
		t.Fatalf("from genesis: %+v, %v", all, err)
	}
	for _, r := range [][2]int64{{-1, 3}, {4, 3}} {
		if _, err := FetchDecode(ctx, n.Chain(), r[0], r[1]); !errors.Is(err, chain.ErrInvalidArgument) {
			t.Errorf("range %v: %v, want ErrInvalidArgument", r, err)
		}
	}
	if _, err := FetchDecode(ctx, n.Chain(), int64(load.To), int64(load.To)+1); !errors.Is(err, chain.ErrNotFound) {
		t.Errorf("past the tip: %v, want ErrNotFound", err)
	}
}

func TestParseStatusKB(t *testing.T) {
	status := []byte("Name:\tbtcd\nVmPeak:\t  123 kB\nVmHWM:\t   4567 kB\nVmRSS:\t  4000 kB\nThreads:\t9\n")
	if v, err := ParseStatusKB(status, "VmHWM"); err != nil || v != 4567 {
		t.Fatalf("VmHWM %d, %v", v, err)
	}
	if v, err := ParseStatusKB(status, "VmRSS"); err != nil || v != 4000 {
		t.Fatalf("VmRSS %d, %v", v, err)
	}
	for _, bad := range []struct{ status, field string }{
		{"VmHWM:\t 12 MB\n", "VmHWM"},
		{"VmHWM:\t -12 kB\n", "VmHWM"},
		{"VmHWM:\t x kB\n", "VmHWM"},
		{"VmHWM:\n", "VmHWM"},
		{"VmRSS:\t 12 kB\n", "VmHWM"},
		{"Threads:\t9\n", "Threads"},
	} {
		if _, err := ParseStatusKB([]byte(bad.status), bad.field); !errors.Is(err, ErrRSS) {
			t.Errorf("%q: %v, want ErrRSS", bad.status, err)
		}
	}
}

func FuzzParseStatusKB(f *testing.F) {
	f.Add([]byte("VmHWM:\t   4567 kB\n"), "VmHWM")
	f.Add([]byte("Name:\tx\nVmRSS: 1 kB"), "VmRSS")
	f.Fuzz(func(t *testing.T, status []byte, field string) {
		v, err := ParseStatusKB(status, field)
		if err != nil && !errors.Is(err, ErrRSS) {
			t.Fatalf("error of no kind: %v", err)
		}
		if err == nil && v < 0 {
			t.Fatalf("negative %d", v)
		}
	})
}

func TestConfigFromEnv(t *testing.T) {
	t.Setenv(EnvBlocks, "12")
	t.Setenv(EnvTxs, "30")
	t.Setenv(EnvStakes, "40")
	t.Setenv(EnvSeed, "-5")
	cfg, seed, err := configFromEnv()
	if err != nil || cfg.Blocks != 12 || cfg.TxsPerBlock != 30 || cfg.Stakes != 40 || seed != -5 {
		t.Fatalf("%+v seed %d: %v", cfg, seed, err)
	}
	for _, bad := range []string{"0", "-3", "ten", "99999999999"} {
		t.Setenv(EnvBlocks, bad)
		if _, _, err := configFromEnv(); !errors.Is(err, ErrConfig) {
			t.Errorf("%s=%s: %v, want ErrConfig", EnvBlocks, bad, err)
		}
	}
}

func ExampleParseStatusKB() {
	status := []byte("Name:\tbtcd\nVmHWM:\t   51200 kB\nVmRSS:\t   40960 kB\n")
	peak, _ := ParseStatusKB(status, "VmHWM")
	fmt.Printf("peak %d MiB\n", peak/1024)
	// Output: peak 50 MiB
}
