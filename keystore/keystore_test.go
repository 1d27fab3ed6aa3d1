package keystore

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/btcsuite/btcd/btcec/v2"
)

// testWF keeps scrypt cheap in tests.
const testWF = 10

// fixturePass unlocks testdata/*.keystore. Those files were written by the
// keystore code as it stood in eots/signer (btcstake key import, work factor
// 10) before it moved here: they pin that existing keystores keep opening.
const fixturePass = "correct horse battery staple"

var fixtures = []struct {
	file, sk, pk string
}{
	{"v1-even-y.keystore", "b7e151628aed2a6abf7158809cf4f3c762e7160f38b4da56a784d9045190cfef", "02dff1d77f2a671c5f36183726db2341be58feae1da2deced843240f7b502ba659"},
	{"v1-odd-y.keystore", "0b432b2677937381aef05bb02a66ecd012773062cf3fa2549e44f58ed2401710", "0325d1dff95105f5253c4022f628a996ad3a0d95fbf21d468a1b33f8c160d8f517"},
}

var allKinds = []error{ErrWrongPassphrase, ErrInvalid, ErrExists, ErrInvalidArgument, ErrIO, ErrEncrypt}

// requireKind fails unless err wraps want and no other kind of this package.
func requireKind(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got %v, want %v", what, err, want)
	}
	for _, k := range allKinds {
		if k != want && errors.Is(err, k) {
			t.Fatalf("%s: %v wraps %v as well as %v", what, err, k, want)
		}
	}
}

func newRand(t testing.TB) *rand.ChaCha8 {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:], seed)
	return rand.NewChaCha8(s)
}

func newKey(t testing.TB, r io.Reader) *btcec.PrivateKey {
	t.Helper()
	for {
		var b [32]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			t.Fatal(err)
		}
		var d btcec.ModNScalar
		if d.SetBytes(&b) != 0 || d.IsZero() {
			continue
		}
		return btcec.PrivKeyFromScalar(&d)
	}
}

func keyFromHex(t testing.TB, s string) *btcec.PrivateKey {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	k, _ := btcec.PrivKeyFromBytes(b)
	return k
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestLoadsExistingKeystores: files written before the move open with the
// right key and public key, and refuse a wrong passphrase.
func TestLoadsExistingKeystores(t *testing.T) {
	dir := t.TempDir()
	for _, f := range fixtures {
		// A checkout does not keep the mode 0600 Write gives a keystore,
		// which Load insists on: the bytes are copied into one.
		b, err := os.ReadFile(filepath.Join("testdata", f.file))
		if err != nil {
			t.Fatal(err)
		}
		path := writeFile(t, dir, f.file, b)
		pk, err := PublicKey(path)
		if err != nil || hex.EncodeToString(pk.SerializeCompressed()) != f.pk {
			t.Fatalf("%s: public key %v", f.file, err)
		}
		k, err := Load(path, []byte(fixturePass))
		if err != nil {
			t.Fatalf("%s: %v", f.file, err)
		}
		if got := k.Key.Bytes(); hex.EncodeToString(got[:]) != f.sk {
			t.Fatalf("%s: loaded a different key", f.file)
		}
		_, err = Load(path, []byte(fixturePass+"!"))
		requireKind(t, f.file+" wrong passphrase", err, ErrWrongPassphrase)
	}
}

// TestWriteFormat decodes a written file without this package: the same
// JSON layout as the v1 fixtures, the compressed public key, an RFC 3339
// time, and an age file that scrypt-decrypts to exactly the 32 key bytes.
func TestWriteFormat(t *testing.T) {
	key := newKey(t, newRand(t))
	path := filepath.Join(t.TempDir(), "k.keystore")
	before := time.Now().UTC().Add(-time.Second)
	if err := Write(path, key, []byte("pw"), Options{WorkFactor: testWF}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Layout: the same lines as a v1 fixture once the values are masked.
	mask := regexp.MustCompile(`: "[^"]*"`)
	fixture, err := os.ReadFile(filepath.Join("testdata", fixtures[0].file))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := mask.ReplaceAll(data, []byte(`: ""`)), mask.ReplaceAll(fixture, []byte(`: ""`)); !bytes.Equal(got, want) {
		t.Fatalf("layout differs from a v1 keystore:\n%s\nwant\n%s", got, want)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	if m["version"] != float64(1) || m["public_key"] != hex.EncodeToString(key.PubKey().SerializeCompressed()) {
		t.Fatalf("envelope %v", m)
	}
	created, err := time.Parse(time.RFC3339, m["created"].(string))
	if err != nil || created.Before(before.Truncate(time.Second)) || created.After(time.Now().Add(time.Second)) {
		t.Fatalf("created %v %v", m["created"], err)
	}
	ct, err := base64.StdEncoding.DecodeString(m["age_scrypt"].(string))
	if err != nil {
		t.Fatal(err)
	}
	id, _ := age.NewScryptIdentity("pw")
	r, err := age.Decrypt(bytes.NewReader(ct), id)
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(r)
	want := key.Key.Bytes()
	if !bytes.Equal(plain, want[:]) {
		t.Fatal("ciphertext does not hold the key")
	}
	if !regexp.MustCompile(`\n-> scrypt \S+ 10\n`).Match(ct) {
		t.Fatal("age header does not carry the work factor")
	}
}

func TestRoundTrip(t *testing.T) {
	rng := newRand(t)
	key := newKey(t, rng)
	keyCopy := key.Key
	dir := t.TempDir()
	path := filepath.Join(dir, "key.json")
	pass := []byte("correct horse")
	if err := Write(path, key, pass, Options{WorkFactor: testWF}); err != nil {
		t.Fatal(err)
	}
	if !key.Key.Equals(&keyCopy) || string(pass) != "correct horse" {
		t.Fatal("Write modified its arguments")
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", fi.Mode())
	}
	raw, _ := os.ReadFile(path)
	skb := key.Key.Bytes()
	if bytes.Contains(raw, skb[:]) || bytes.Contains(raw, []byte(hex.EncodeToString(skb[:]))) {
		t.Fatal("secret key in the clear")
	}
	got, err := Load(path, pass)
	if err != nil || !got.Key.Equals(&key.Key) {
		t.Fatalf("load: %v", err)
	}
	pk, err := PublicKey(path)
	if err != nil || !pk.IsEqual(key.PubKey()) {
		t.Fatal("public key")
	}
	// No overwrite without Overwrite; the file stays as it was.
	err = Write(path, newKey(t, rng), pass, Options{WorkFactor: testWF})
	requireKind(t, "overwrite", err, ErrExists)
	if b, _ := os.ReadFile(path); !bytes.Equal(b, raw) {
		t.Fatal("refused overwrite changed the file")
	}
	// Not even with Overwrite does another key replace the old one: that
	// would destroy a key (issue 15).
	other := newKey(t, rng)
	err = Write(path, other, pass, Options{WorkFactor: testWF, Overwrite: true})
	requireKind(t, "overwrite with another key", err, ErrExists)
	if b, _ := os.ReadFile(path); !bytes.Equal(b, raw) {
		t.Fatal("a refused overwrite changed the file")
	}
	// With Overwrite the same key is written again under a new
	// passphrase.
	if err := Write(path, key, []byte("new pass"), Options{WorkFactor: testWF, Overwrite: true}); err != nil {
		t.Fatal(err)
	}
	if got, err := Load(path, []byte("new pass")); err != nil || !got.Key.Equals(&key.Key) {
		t.Fatalf("after overwrite: %v", err)
	}
	_, err = Load(path, pass)
	requireKind(t, "the old passphrase", err, ErrWrongPassphrase)
	// Overwrite replaces a file that holds no key; a plain key file of
	// the very same key is key material and stays.
	notes := writeFile(t, dir, "notes.txt", []byte("not a key"))
	if err := Write(notes, key, pass, Options{WorkFactor: testWF, Overwrite: true}); err != nil {
		t.Fatalf("over a file holding no key: %v", err)
	}
	os.Remove(notes)
	// (skb: the secret key bytes from above)
	plain := writeFile(t, dir, "plain.key", []byte(hex.EncodeToString(skb[:])))
	requireKind(t, "over a plain key file", Write(plain, key, pass, Options{WorkFactor: testWF, Overwrite: true}), ErrExists)
	os.Remove(plain)
	// A tampered public key is detected on unlock.
	tampered := bytes.Replace(raw, []byte(hex.EncodeToString(key.PubKey().SerializeCompressed())), []byte(hex.EncodeToString(other.PubKey().SerializeCompressed())), 1)
	tp := writeFile(t, dir, "tampered.json", tampered)
	_, err = Load(tp, pass)
	requireKind(t, "tampered", err, ErrInvalid)
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name() != "key.json" && e.Name() != "tampered.json" {
			t.Fatalf("stray file %s", e.Name())
		}
	}
}

// TestWrongPassphraseChangesNothing: the file and its directory are left
// exactly as they were.
func TestWrongPassphraseChangesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "key.json")
	if err := Write(path, newKey(t, newRand(t)), []byte("right"), Options{WorkFactor: testWF}); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	k, err := Load(path, []byte("wrong"))
	if k != nil {
		t.Fatal("a key came back")
	}
	requireKind(t, "wrong passphrase", err, ErrWrongPassphrase)
	after, _ := os.ReadFile(path)
	entries, _ := os.ReadDir(filepath.Dir(path))
	if !bytes.Equal(before, after) || len(entries) != 1 {
		t.Fatal("keystore modified or files written")
	}
}

// sealed returns an envelope for pk whose age payload is payload.
func sealed(t *testing.T, pk string, payload []byte, pass string) []byte {
	t.Helper()
	rcpt, _ := age.NewScryptRecipient(pass)
	rcpt.SetWorkFactor(testWF)
	var ct bytes.Buffer
	w, _ := age.Encrypt(&ct, rcpt)
	w.Write(payload)
	w.Close()
	b, _ := json.Marshal(file{Version: 1, PublicKey: pk, Created: "2026-01-01T00:00:00Z", Ciphertext: base64.StdEncoding.EncodeToString(ct.Bytes())})
	return b
}

// TestLoadErrorKinds: every way a file or argument can be wrong gives
// exactly its kind.
func TestLoadErrorKinds(t *testing.T) {
	dir := t.TempDir()
	key := newKey(t, newRand(t))
	pkHex := hex.EncodeToString(key.PubKey().SerializeCompressed())
	good := filepath.Join(dir, "good.keystore")
	if err := Write(good, key, []byte("pw"), Options{WorkFactor: testWF}); err != nil {
		t.Fatal(err)
	}
	goodBytes, _ := os.ReadFile(good)
	var env file
	json.Unmarshal(goodBytes, &env)
	withEnv := func(name string, edit func(*file)) string {
		e := env
		edit(&e)
		b, _ := json.Marshal(e)
		return writeFile(t, dir, name, b)
	}
	n := btcec.S256().N.Bytes()
	notADir := writeFile(t, dir, "plain", []byte("x"))
	cases := []struct {
		name, path string
		pass       string
		load, pub  error // kinds from Load and PublicKey (nil: PublicKey succeeds)
	}{
		{"missing file", filepath.Join(dir, "missing"), "pw", ErrIO, ErrIO},
		{"a directory", dir, "pw", ErrUnsafeFile, ErrUnsafeFile},
		{"parent is a file", filepath.Join(notADir, "k"), "pw", ErrIO, ErrIO},
		{"endless device", "/dev/zero", "pw", ErrUnsafeFile, ErrUnsafeFile},
		{"oversized", writeFile(t, dir, "big", bytes.Repeat([]byte(" "), maxFileSize+10)), "pw", ErrInvalid, ErrInvalid},
		{"empty", writeFile(t, dir, "empty", nil), "pw", ErrInvalid, ErrInvalid},
		{"not JSON", writeFile(t, dir, "hex", []byte(strings.Repeat("ab", 32))), "pw", ErrInvalid, ErrInvalid},
		{"truncated", writeFile(t, dir, "trunc", goodBytes[:len(goodBytes)/2]), "pw", ErrInvalid, ErrInvalid},
		{"unknown field", writeFile(t, dir, "extra", bytes.Replace(goodBytes, []byte(`"version"`), []byte(`"role": "staker", "version"`), 1)), "pw", ErrInvalid, ErrInvalid},
		{"a field twice", writeFile(t, dir, "twice", bytes.Replace(goodBytes, []byte(`"version": 1,`), []byte(`"version": 1, "version": 1,`), 1)), "pw", ErrInvalid, ErrInvalid},
		{"data after the envelope", writeFile(t, dir, "trailing", append(bytes.Clone(goodBytes), `{"version": 1}`...)), "pw", ErrInvalid, ErrInvalid},
		{"group-readable", func() string {
			p := writeFile(t, dir, "group", goodBytes)
			os.Chmod(p, 0o640)
			return p
		}(), "pw", ErrUnsafeFile, nil},
		{"version 2", withEnv("v2", func(e *file) { e.Version = 2 }), "pw", ErrInvalid, ErrInvalid},
		{"public key not hex", withEnv("pkhex", func(e *file) { e.PublicKey = "zz" }), "pw", ErrInvalid, ErrInvalid},
		{"x-only public key", withEnv("pk32", func(e *file) { e.PublicKey = pkHex[2:] }), "pw", ErrInvalid, ErrInvalid},
		{"public key prefix 04", withEnv("pk04", func(e *file) { e.PublicKey = "04" + pkHex[2:] }), "pw", ErrInvalid, ErrInvalid},
		{"ciphertext not base64", withEnv("b64", func(e *file) { e.Ciphertext = "!!" }), "pw", ErrInvalid, nil},
		{"ciphertext not age", withEnv("notage", func(e *file) { e.Ciphertext = base64.StdEncoding.EncodeToString([]byte("age?")) }), "pw", ErrInvalid, nil},
		{"wrong passphrase", good, "wrong", ErrWrongPassphrase, nil},
		{"empty passphrase", good, "", ErrInvalidArgument, nil},
		{"payload 31 bytes", writeFile(t, dir, "p31", sealed(t, pkHex, bytes.Repeat([]byte{1}, 31), "pw")), "pw", ErrInvalid, nil},
		{"payload 33 bytes", writeFile(t, dir, "p33", sealed(t, pkHex, bytes.Repeat([]byte{1}, 33), "pw")), "pw", ErrInvalid, nil},
		{"payload zero", writeFile(t, dir, "p0", sealed(t, pkHex, make([]byte, 32), "pw")), "pw", ErrInvalid, nil},
		{"payload n", writeFile(t, dir, "pn", sealed(t, pkHex, n, "pw")), "pw", ErrInvalid, nil},
		{"key of another public key", writeFile(t, dir, "other", sealed(t, fixtures[0].pk, func() []byte { b := key.Key.Bytes(); return b[:] }(), "pw")), "pw", ErrInvalid, nil},
	}
	for _, c := range cases {
		k, err := Load(c.path, []byte(c.pass))
		if k != nil {
			t.Fatalf("%s: Load returned a key", c.name)
		}
		requireKind(t, c.name+" (Load)", err, c.load)
		_, err = PublicKey(c.path)
		if c.pub == nil {
			if err != nil {
				t.Fatalf("%s: PublicKey: %v", c.name, err)
			}
			continue
		}
		requireKind(t, c.name+" (PublicKey)", err, c.pub)
	}
	// ErrIO keeps the operating system's error.
	if _, err := Load(filepath.Join(dir, "missing"), []byte("pw")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing file: %v does not wrap fs.ErrNotExist", err)
	}
	// A sealed payload that is the right key for the envelope loads: the
	// helper above is not what made the other cases fail.
	kb := key.Key.Bytes()
	if k, err := Load(writeFile(t, dir, "right", sealed(t, pkHex, kb[:], "pw")), []byte("pw")); err != nil || !k.Key.Equals(&key.Key) {
		t.Fatalf("hand-sealed keystore: %v", err)
	}
}

// TestWriteErrorKinds: every refused write gives exactly its kind and
// leaves nothing behind; an existing keystore at the path is unchanged.
func TestWriteErrorKinds(t *testing.T) {
	rng := newRand(t)
	dir := t.TempDir()
	existing := filepath.Join(dir, "existing.keystore")
	if err := Write(existing, newKey(t, rng), []byte("pw"), Options{WorkFactor: testWF}); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(existing)
	zeroed := newKey(t, rng)
	zeroed.Zero()
	notADir := writeFile(t, dir, "plain", []byte("x"))
	subdir := filepath.Join(dir, "sub")
	os.Mkdir(subdir, 0o700)
	os.WriteFile(filepath.Join(subdir, "f"), nil, 0o600) // a non-empty directory cannot be renamed over
	key := newKey(t, rng)
	cases := []struct {
		name, path string
		key        *btcec.PrivateKey
		pass       string
		opts       Options
		want       error
	}{
		{"empty passphrase", existing, key, "", Options{WorkFactor: testWF, Overwrite: true}, ErrInvalidArgument},
		{"work factor -1", existing, key, "pw", Options{WorkFactor: -1, Overwrite: true}, ErrInvalidArgument},
		{"work factor 23", existing, key, "pw", Options{WorkFactor: 23, Overwrite: true}, ErrInvalidArgument},
		{"work factor 31 (age panics)", existing, key, "pw", Options{WorkFactor: 31, Overwrite: true}, ErrInvalidArgument},
		{"work factor 64", existing, key, "pw", Options{WorkFactor: 64, Overwrite: true}, ErrInvalidArgument},
		{"nil key", existing, nil, "pw", Options{WorkFactor: testWF, Overwrite: true}, ErrInvalidArgument},
		{"zeroed key", existing, zeroed, "pw", Options{WorkFactor: testWF, Overwrite: true}, ErrInvalidArgument},
		{"exists", existing, key, "pw", Options{WorkFactor: testWF}, ErrExists},
		{"missing directory", filepath.Join(dir, "nodir", "k"), key, "pw", Options{WorkFactor: testWF}, ErrIO},
		{"parent is a file", filepath.Join(notADir, "k"), key, "pw", Options{WorkFactor: testWF}, ErrIO},
		{"over a directory", subdir, key, "pw", Options{WorkFactor: testWF, Overwrite: true}, ErrIO},
	}
	for _, c := range cases {
		var err error
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("%s: panic %v", c.name, r)
				}
			}()
			err = Write(c.path, c.key, []byte(c.pass), c.opts)
		}()
		requireKind(t, c.name, err, c.want)
		if b, _ := os.ReadFile(existing); !bytes.Equal(b, before) {
			t.Fatalf("%s: the existing keystore changed", c.name)
		}
	}
	if _, err := Load(existing, []byte("pw")); err != nil {
		t.Fatalf("the existing keystore no longer loads: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if n := e.Name(); n != "existing.keystore" && n != "plain" && n != "sub" {
			t.Fatalf("stray file %s", n)
		}
	}
	if err := Write(filepath.Join(dir, "nodir", "k"), key, []byte("pw"), Options{WorkFactor: testWF}); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing directory: %v does not wrap fs.ErrNotExist", err)
	}
}

// failingRecipient is an age recipient whose key wrapping fails, as age's
// scrypt recipient does when the random source fails.
type failingRecipient struct{}

func (failingRecipient) Wrap([]byte) ([]*age.Stanza, error) {
	return nil, errors.New("random source failed")
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("short write") }

// TestSealErrorKind: encryption failures, which no caller can provoke
// through Write, wrap ErrEncrypt.
func TestSealErrorKind(t *testing.T) {
	var buf bytes.Buffer
	requireKind(t, "failing recipient", seal(&buf, failingRecipient{}, make([]byte, 32)), ErrEncrypt)
	rcpt, _ := age.NewScryptRecipient("pw")
	rcpt.SetWorkFactor(testWF)
	requireKind(t, "failing writer", seal(failingWriter{}, rcpt, make([]byte, 32)), ErrEncrypt)
	if err := seal(&buf, rcpt, []byte("k")); err != nil {
		t.Fatalf("a working recipient and writer: %v", err)
	}
}

// TestReadIsBounded: a keystore one byte over the limit is refused, one
// at the limit is read (and fails only as JSON).
func TestReadIsBounded(t *testing.T) {
	dir := t.TempDir()
	at := writeFile(t, dir, "at", bytes.Repeat([]byte(" "), maxFileSize))
	over := writeFile(t, dir, "over", bytes.Repeat([]byte(" "), maxFileSize+1))
	_, err := PublicKey(over)
	requireKind(t, "over", err, ErrInvalid)
	if !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("over: %v", err)
	}
	_, err = PublicKey(at)
	requireKind(t, "at", err, ErrInvalid)
	if strings.Contains(err.Error(), "larger than") {
		t.Fatalf("at the limit: %v", err)
	}
}
