package signer

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/btcstake/btcstake/eots"
)

type printed struct {
	msg []byte
	sig eots.Signature
	r   eots.PublicRand
	run int
}

// TestCrashSafety kills a signing child process with SIGKILL at random
// moments, 200+ times, restarting it each time a little below the highest
// height it reported so that it meets its own records, with the same
// message or another one.
// Every signature any child ever printed is collected; at no height may two
// different messages have been signed, and no pair of printed signatures may
// leak the key.
func TestCrashSafety(t *testing.T) {
	rng := newRand(t)
	sk := newKey(t, rng)
	skb := sk.Bytes()
	store := filepath.Join(t.TempDir(), "records.db")
	const kills = 210
	byHeight := map[uint64][]printed{}
	var maxH uint64
	var okLines, refusedLines int
	deadline := time.Now().Add(5 * time.Minute) // normally ~10 s; generous for -race on a loaded machine
	for run := 0; run < kills; run++ {
		if time.Now().After(deadline) {
			t.Fatalf("only %d runs before the deadline", run)
		}
		start := uint64(1)
		if maxH > 10 {
			start = maxH - 10
		}
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(),
			"BTCSTAKE_SIGNER_CHILD=sign",
			"BTCSTAKE_SIGNER_STORE="+store,
			"BTCSTAKE_SIGNER_KEY="+hex.EncodeToString(skb[:]),
			fmt.Sprintf("BTCSTAKE_SIGNER_START=%d", start),
			fmt.Sprintf("BTCSTAKE_SIGNER_RUN=%d", run),
		)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var lines []string
		var wg sync.WaitGroup
		ready := make(chan struct{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				if sc.Text() == "ready" {
					close(ready)
					continue
				}
				lines = append(lines, sc.Text())
			}
		}()
		// A random moment: one run in ten from the process start (often
		// before the store is open), otherwise from the moment the child
		// is ready, so that slow starts (-race, a loaded machine) do not
		// turn every kill into an early one.
		if rng.Uint64()%10 != 0 {
			select {
			case <-ready:
			case <-time.After(20 * time.Second):
				t.Fatalf("run %d: child never became ready", run)
			}
		}
		time.Sleep(time.Duration(rng.Uint64()%40) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatalf("run %d: kill: %v", run, err)
		}
		wg.Wait()
		err = cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
			t.Fatalf("run %d: child exited by itself (%v): %v", run, err, lines)
		}
		for _, l := range lines {
			f := strings.Fields(l)
			switch {
			case len(f) == 5 && f[0] == "ok":
				var h uint64
				fmt.Sscan(f[1], &h)
				msg, _ := hex.DecodeString(f[2])
				sb, _ := hex.DecodeString(f[3])
				rb, _ := hex.DecodeString(f[4])
				byHeight[h] = append(byHeight[h], printed{msg: msg, sig: eots.Signature(sb), r: eots.PublicRand(rb), run: run})
				if h > maxH {
					maxH = h
				}
				okLines++
			case len(f) == 2 && f[0] == "refused":
				refusedLines++
			default:
				t.Fatalf("run %d: unexpected child output %q", run, l)
			}
		}
	}
	t.Logf("%d kills, %d heights signed, %d signatures printed, %d refusals", kills, len(byHeight), okLines, refusedLines)
	pk := sk.PubKey()
	pairs := 0
	for h, ps := range byHeight {
		for i := range ps {
			if err := eots.Verify(pk, ps[i].r, ps[i].msg, ps[i].sig); err != nil {
				t.Fatalf("height %d: invalid signature: %v", h, err)
			}
			for j := i + 1; j < len(ps); j++ {
				pairs++
				if string(ps[i].msg) != string(ps[j].msg) || ps[i].sig != ps[j].sig {
					t.Errorf("height %d: runs %d and %d signed different messages", h, ps[i].run, ps[j].run)
				}
				if leaked, err := eots.Extract(pk, ps[i].r, ps[i].msg, ps[i].sig, ps[j].msg, ps[j].sig); err == nil {
					t.Fatalf("height %d: key extracted (%x)", h, leaked.XOnly())
				}
			}
		}
	}
	t.Logf("%d same-height pairs checked", pairs)
	if len(byHeight) < 20 || refusedLines == 0 || okLines == len(byHeight) {
		t.Fatalf("the children did too little to test anything (%d heights, %d refusals)", len(byHeight), refusedLines)
	}
	if pairs == 0 {
		t.Fatal("no height was signed twice: the restart path was not exercised")
	}
	// Finally the store itself is intact and agrees with what was printed.
	st, err := OpenStore(store, StoreOptions{})
	if err != nil {
		t.Fatalf("store after %d kills: %v", kills, err)
	}
	defer st.Close()
	x := sk.XOnly()
	recs, err := st.Records([]byte("crash-chain"), &x)
	if err != nil {
		t.Fatal(err)
	}
	got := map[uint64]string{}
	for _, r := range recs {
		got[r.Height] = string(r.Msg)
	}
	for h, ps := range byHeight {
		if got[h] != string(ps[0].msg) {
			t.Fatalf("height %d: store has %q, child printed %q", h, got[h], ps[0].msg)
		}
	}
}
