package chain

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/chaincfg/v2"
)

// TestBitcoindDefaults: Bitcoin Core's default RPC ports and cookie
// locations (chainparamsbase.cpp; the cookie lives in the network's data
// subdirectory).
func TestBitcoindDefaults(t *testing.T) {
	for _, c := range []struct {
		net    *chaincfg.Params
		port   int
		cookie string
	}{
		{&chaincfg.MainNetParams, 8332, "/d/.cookie"},
		{&chaincfg.TestNet3Params, 18332, "/d/testnet3/.cookie"},
		{&chaincfg.TestNet4Params, 48332, "/d/testnet4/.cookie"},
		{&chaincfg.SigNetParams, 38332, "/d/signet/.cookie"},
		{&chaincfg.RegressionNetParams, 18443, "/d/regtest/.cookie"},
	} {
		if p, err := DefaultRPCPort(c.net); err != nil || p != c.port {
			t.Errorf("%s: port %d, %v; want %d", c.net.Name, p, err, c.port)
		}
		if p, err := CookiePath("/d", c.net); err != nil || p != filepath.FromSlash(c.cookie) {
			t.Errorf("%s: cookie %q, %v; want %q", c.net.Name, p, err, c.cookie)
		}
	}
	for _, net := range []*chaincfg.Params{nil, &chaincfg.SimNetParams} {
		if _, err := DefaultRPCPort(net); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("port of %v: %v", net, err)
		}
		if _, err := CookiePath("/d", net); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("cookie of %v: %v", net, err)
		}
	}
	t.Setenv("HOME", "/home/me")
	if d, err := DefaultDataDir(); err != nil || !strings.HasPrefix(d, filepath.FromSlash("/home/me/")) {
		t.Errorf("default data dir %q, %v", d, err)
	}
	if p, err := CookiePath("", &chaincfg.SigNetParams); err != nil || !strings.HasSuffix(p, filepath.FromSlash("/signet/.cookie")) || !strings.HasPrefix(p, filepath.FromSlash("/home/me/")) {
		t.Errorf("signet cookie in the default data dir: %q, %v", p, err)
	}
}

// TestDataDirs: bitcoind's default data directory on each system
// (Bitcoin Core's GetDefaultDataDir; on Windows, Core 28 moved it from
// %APPDATA% to %LOCALAPPDATA% and keeps using an existing old one).
func TestDataDirs(t *testing.T) {
	env := map[string]string{"APPDATA": "R", "LOCALAPPDATA": "L"}
	getenv := func(k string) string { return env[k] }
	oldExists := func(p string) bool { return p == filepath.Join("R", "Bitcoin") }
	none := func(string) bool { return false }
	for _, c := range []struct {
		goos, home string
		isDir      func(string) bool
		want       string
	}{
		{"linux", "/home/me", none, filepath.Join("/home/me", ".bitcoin")},
		{"freebsd", "/home/me", none, filepath.Join("/home/me", ".bitcoin")},
		{"darwin", "/Users/me", none, filepath.Join("/Users/me", "Library", "Application Support", "Bitcoin")},
		{"windows", "C:/Users/me", none, filepath.Join("L", "Bitcoin")},
		{"windows", "C:/Users/me", oldExists, filepath.Join("R", "Bitcoin")},
	} {
		if got, err := dataDirFor(c.goos, c.home, getenv, c.isDir); err != nil || got != c.want {
			t.Errorf("%s: %q, %v; want %q", c.goos, got, err, c.want)
		}
	}
	if _, err := dataDirFor("linux", "", getenv, none); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("no home: %v", err)
	}
	env = nil
	if _, err := dataDirFor("windows", "", getenv, none); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("windows without its variables: %v", err)
	}
}

func TestNetworkName(t *testing.T) {
	for in, want := range map[string]string{
		"main": "mainnet", "mainnet": "mainnet", "test": "testnet3", "testnet3": "testnet3",
		"testnet4": "testnet4", "signet": "signet", "regtest": "regtest", "simnet": "simnet",
		"REGTEST": "regtest", "": "", "liquidv1": "",
	} {
		if got := NetworkName(in); got != want {
			t.Errorf("NetworkName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestReadCookie(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	u, p, err := ReadCookie(write("good", "__cookie__:5e3c0f\n"))
	if err != nil || u != "__cookie__" || p != "5e3c0f" {
		t.Fatalf("good cookie: %q %q %v", u, p, err)
	}
	// A password may hold colons; the user name ends at the first.
	if u, p, err := ReadCookie(write("colons", "me:a:b")); err != nil || u != "me" || p != "a:b" {
		t.Fatalf("colons: %q %q %v", u, p, err)
	}
	for name, content := range map[string]string{
		"nocolon": "s3cr3tpassword", "empty": "", "nouser": ":s3cr3tpassword", "twolines": "me:s3cr3t\nother:s3cr3tpassword",
		"huge": "me:" + strings.Repeat("s3cr3tpassword", 1000),
	} {
		_, _, err := ReadCookie(write(name, content))
		if !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%s: %v, want ErrInvalidArgument", name, err)
		}
		if err != nil && strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("%s: the secret reached the error: %v", name, err)
		}
	}
	if _, _, err := ReadCookie(filepath.Join(dir, "absent")); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("absent: %v", err)
	}
	// bitcoind's -rpccookieperms=group shares the cookie with a group:
	// read. Readable by others: refused, as a directory or a device is.
	shared := write("shared", "__cookie__:5e3c0f\n")
	if err := os.Chmod(shared, 0o640); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ReadCookie(shared); err != nil {
		t.Errorf("group-readable cookie: %v", err)
	}
	if err := os.Chmod(shared, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{shared, dir, os.DevNull} {
		_, _, err := ReadCookie(p)
		if !errors.Is(err, ErrInvalidArgument) || strings.Contains(err.Error(), "5e3c0f") {
			t.Errorf("%s: %v", p, err)
		}
	}
	if _, _, err := ReadCookie(shared); err == nil || !strings.Contains(err.Error(), "chmod o-rwx") {
		t.Errorf("world-readable cookie: %v", err)
	}
}
