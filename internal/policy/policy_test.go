package policy

import (
	"bytes"
	"testing"
)

// The thresholds Bitcoin Core documents for its default dust relay fee
// (policy.cpp, GetDustThreshold comments): 546 sat for P2PKH, 540 for P2SH,
// 294 for P2WPKH, 330 for P2WSH and P2TR.
func TestDustThreshold(t *testing.T) {
	p2pkh := append(append([]byte{0x76, 0xa9, 0x14}, make([]byte, 20)...), 0x88, 0xac)
	p2sh := append(append([]byte{0xa9, 0x14}, make([]byte, 20)...), 0x87)
	p2wpkh := append([]byte{0x00, 0x14}, make([]byte, 20)...)
	p2wsh := append([]byte{0x00, 0x20}, make([]byte, 32)...)
	p2tr := append([]byte{0x51, 0x20}, make([]byte, 32)...)
	for _, c := range []struct {
		name   string
		script []byte
		want   int64
	}{
		{"p2pkh", p2pkh, 546},
		{"p2sh", p2sh, 540},
		{"p2wpkh", p2wpkh, 294},
		{"p2wsh", p2wsh, 330},
		{"p2tr", p2tr, 330},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := DustThreshold(c.script); got != c.want {
				t.Fatalf("threshold %d, want %d", got, c.want)
			}
			if !IsDust(c.want-1, c.script) || IsDust(c.want, c.script) {
				t.Fatalf("IsDust boundary wrong at %d", c.want)
			}
		})
	}
}

func TestNullDataNeverDust(t *testing.T) {
	opReturn := []byte{0x6a, 0x07, 'b', 'a', 'b', 'y', 'l', 'o', 'n'}
	if IsDust(0, opReturn) || IsDust(1, opReturn) {
		t.Fatal("an OP_RETURN output is standard at any value")
	}
	// An unspendable script that is not null data (OP_RETURN followed by a
	// non-push) is always dust.
	if !IsDust(1_000_000, []byte{0x6a, 0xac}) {
		t.Fatal("OP_RETURN OP_CHECKSIG must be dust")
	}
}

func TestLongScriptLength(t *testing.T) {
	// A 300-byte script needs a 3-byte compact size: 8+3+300+41+107 = 459.
	s := bytes.Repeat([]byte{0x51}, 300)
	if got := DustThreshold(s); got != 3*459 {
		t.Fatalf("threshold %d, want %d", got, 3*459)
	}
}

// TestMoreDustCases: a bare P2PK output ((8+1+35) + 41 + 107 = 192 bytes,
// so 576 sat), and scripts that cannot be spent are always dust.
func TestMoreDustCases(t *testing.T) {
	p2pk := append(append([]byte{0x21, 0x02}, bytes.Repeat([]byte{7}, 32)...), 0xac)
	if got := DustThreshold(p2pk); got != 576 {
		t.Fatalf("p2pk threshold %d, want 576", got)
	}
	for name, pk := range map[string][]byte{
		"unparseable push":    {0x4c},                      // OP_PUSHDATA1 without its length
		"too large":           make([]byte, 10_001),        // above the script size limit
		"malformed op_return": {0x6a, 0x4c, 0x05, 1, 2, 3}, // not null data: the push does not parse
	} {
		if !IsDust(1e8, pk) {
			t.Errorf("%s: an unspendable output is not dust", name)
		}
	}
}
