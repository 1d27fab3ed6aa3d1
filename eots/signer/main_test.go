package signer

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/btcstake/btcstake/eots"
)

// The test binary doubles as the child process of the crash and lock tests:
// with BTCSTAKE_SIGNER_CHILD set it runs childMain instead of the tests.
func TestMain(m *testing.M) {
	switch os.Getenv("BTCSTAKE_SIGNER_CHILD") {
	case "":
		os.Exit(m.Run())
	case "sign":
		os.Exit(childSign())
	case "hold":
		os.Exit(childHold())
	case "create":
		os.Exit(childCreate())
	default:
		os.Exit(3)
	}
}

func childKey() *eots.SecretKey {
	b, _ := hex.DecodeString(os.Getenv("BTCSTAKE_SIGNER_KEY"))
	sk, err := eots.ParseSecretKey(b)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bad key")
		os.Exit(3)
	}
	return sk
}

// childSign signs successive heights from START, printing one line per outcome, until killed.
func childSign() int {
	st, err := OpenStore(os.Getenv("BTCSTAKE_SIGNER_STORE"), StoreOptions{Create: true, LockTimeout: 10 * time.Second})
	if err != nil {
		fmt.Println("open-error", err)
		return 4
	}
	s, _ := New(st, childKey())
	fmt.Println("ready")
	start, _ := strconv.ParseUint(os.Getenv("BTCSTAKE_SIGNER_START"), 10, 64)
	run, _ := strconv.ParseUint(os.Getenv("BTCSTAKE_SIGNER_RUN"), 10, 64)
	w := bufio.NewWriterSize(os.Stdout, 512)
	for h := start; h < start+100000; h++ {
		// One of two messages per height, mixed from run and height: a restarted
		// child meets its earlier records sometimes with the same message
		// (which must return the same signature) and sometimes with another
		// (which must be refused).
		x := run*0x9E3779B97F4A7C15 ^ h*0xC2B2AE3D27D4EB4F
		x ^= x >> 29
		msg := []byte(fmt.Sprintf("height %d variant %d", h, x%2))
		res, err := s.Sign([]byte("crash-chain"), h, msg)
		switch {
		case err == nil:
			fmt.Fprintf(w, "ok %d %x %x %x\n", h, msg, res.Sig[:], res.PubRand[:])
		case isDoubleSign(err):
			fmt.Fprintf(w, "refused %d\n", h)
		default:
			fmt.Fprintf(w, "error %d %v\n", h, err)
			w.Flush()
			return 5
		}
		w.Flush() // one write per line: a kill loses at most the line being written
	}
	return 0
}

// childHold opens the store and holds it until killed.
func childHold() int {
	st, err := OpenStore(os.Getenv("BTCSTAKE_SIGNER_STORE"), StoreOptions{LockTimeout: 10 * time.Second})
	if err != nil {
		fmt.Println("open-error", err)
		return 4
	}
	defer st.Close()
	fmt.Println("holding")
	time.Sleep(time.Minute)
	return 0
}

func newRand(t testing.TB) *rand.ChaCha8 {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:], seed)
	return rand.NewChaCha8(s)
}

func newKey(t testing.TB, r *rand.ChaCha8) *eots.SecretKey {
	t.Helper()
	sk, err := eots.GenerateSecretKey(r)
	if err != nil {
		t.Fatal(err)
	}
	return sk
}

// childCreate creates (or opens) the store, after lowering its file size
// limit to BTCSTAKE_SIGNER_FSIZE bytes if set (a full disk, as far as the
// store is concerned), and prints the outcome: "ok" or "error KIND MESSAGE".
func childCreate() int {
	if v := os.Getenv("BTCSTAKE_SIGNER_FSIZE"); v != "" {
		n, _ := strconv.ParseUint(v, 10, 64)
		if err := limitFileSize(n); err != nil {
			fmt.Println("setup-error", err)
			return 3
		}
	}
	st, err := OpenStore(os.Getenv("BTCSTAKE_SIGNER_STORE"), StoreOptions{Create: true, LockTimeout: 20 * time.Second})
	if err != nil {
		fmt.Println("error", errorKind(err), err)
		return 0
	}
	st.Close()
	fmt.Println("ok")
	return 0
}

// errorKind names the package error kind err wraps.
func errorKind(err error) string {
	for _, k := range []struct {
		name string
		err  error
	}{
		{"corrupt", ErrStoreCorrupt}, {"failed", ErrStoreFailed}, {"in-use", ErrStoreInUse},
		{"rolled-back", ErrStoreRolledBack}, {"mark-missing", ErrMarkMissing}, {"not-found", ErrStoreNotFound},
	} {
		if errors.Is(err, k.err) {
			return k.name
		}
	}
	return "other"
}
