package params

import (
	"embed"
	"fmt"
	"slices"

	"github.com/btcstake/btcstake/internal/strictjson"
)

// The embedded preset data: upstream files copied unchanged where an
// upstream data file exists, and sources.json, which says where each file
// comes from (params/presets/README.md).
//
//go:embed presets/*.json
var presetFS embed.FS

// Source says where a preset's data comes from (docs/spec.md §8.5).
type Source struct {
	Preset string
	// ChainID is the Babylon chain the params belong to ("" for none).
	ChainID string
	// BitcoinNetwork is the Bitcoin network: "mainnet", "signet" or
	// "regtest".
	BitcoinNetwork string
	// Retrieved is the date (YYYY-MM-DD) the data was copied; the chain
	// may have changed its params since.
	Retrieved string
	// CheckpointTag is the hex of the chain's 4-byte btccheckpoint tag
	// ("" when not recorded), and CheckpointTagSource where it is read.
	CheckpointTag       string
	CheckpointTagSource string
	// Note says what the data is and where it stops being the truth.
	Note  string
	Files []SourceFile
}

// SourceFile is one embedded data file of a preset and its upstream file.
type SourceFile struct {
	// File is the embedded file under params/presets/ (or, for the
	// regtest preset, params/regtest-example.json).
	File string
	// Format is the Format ParseVersions reads the file as.
	Format string
	// Versions are the version numbers the file supplies, e.g. "0-3".
	Versions string
	// Repository (GitHub owner/name), Path, Ref (tag or branch) and
	// Commit locate the upstream file.
	Repository, Path, Ref, Commit string
	// SHA256 is the hex SHA-256 of the embedded file ("" for this
	// project's own file).
	SHA256 string
	// Note says how the file relates to the upstream file.
	Note string
}

type sourcesJSON struct {
	Presets []struct {
		Name                string `json:"name"`
		ChainID             string `json:"chain_id"`
		BitcoinNetwork      string `json:"bitcoin_network"`
		Retrieved           string `json:"retrieved"`
		CheckpointTag       string `json:"checkpoint_tag"`
		CheckpointTagSource string `json:"checkpoint_tag_source"`
		Note                string `json:"note"`
		Files               []struct {
			File       string `json:"file"`
			Format     string `json:"format"`
			Versions   string `json:"versions"`
			Repository string `json:"repository"`
			Path       string `json:"path"`
			Ref        string `json:"ref"`
			Commit     string `json:"commit"`
			SHA256     string `json:"sha256"`
			Note       string `json:"note"`
		} `json:"files"`
	} `json:"presets"`
}

// presetSources decodes sources.json (strictly: it is this project's file).
func presetSources() ([]Source, error) {
	b, err := presetFS.ReadFile("presets/sources.json")
	if err != nil {
		return nil, fmt.Errorf("params: embedded presets/sources.json: %v", err)
	}
	var j sourcesJSON
	if err := strictjson.Decode(b, &j); err != nil {
		return nil, fmt.Errorf("params: embedded presets/sources.json: %v", err)
	}
	var out []Source
	for _, p := range j.Presets {
		s := Source{Preset: p.Name, ChainID: p.ChainID, BitcoinNetwork: p.BitcoinNetwork, Retrieved: p.Retrieved,
			CheckpointTag: p.CheckpointTag, CheckpointTagSource: p.CheckpointTagSource, Note: p.Note}
		for _, f := range p.Files {
			s.Files = append(s.Files, SourceFile(f))
		}
		out = append(out, s)
	}
	return out, nil
}

// PresetNames returns the names of the embedded presets, sorted.
func PresetNames() []string {
	srcs, err := presetSources()
	if err != nil {
		return nil
	}
	var names []string
	for _, s := range srcs {
		names = append(names, s.Preset)
	}
	slices.Sort(names)
	return names
}

// PresetSource says where preset name's data comes from, or
// ErrUnknownPreset.
func PresetSource(name string) (Source, error) {
	srcs, err := presetSources()
	if err != nil {
		return Source{}, err
	}
	for _, s := range srcs {
		if s.Preset == name {
			return s, nil
		}
	}
	return Source{}, fmt.Errorf("%w: %q (known: %v)", ErrUnknownPreset, name, PresetNames())
}

// PresetForNetwork returns the default preset for a Bitcoin network
// ("mainnet", "signet", "regtest", "testnet", "testnet4"): "bbn-1" for
// mainnet, "bbn-test-6" for signet, "regtest" for regtest, and "" for a
// network no Babylon chain uses (testnet, testnet4) or one it does not
// know.
func PresetForNetwork(network string) string {
	switch network {
	case "mainnet":
		return "bbn-1"
	case "signet":
		return "bbn-test-6"
	case "regtest":
		return "regtest"
	}
	return ""
}

// Preset returns the versions of the embedded preset name (PresetNames), or
// ErrUnknownPreset. Each call parses the embedded files afresh, so the
// result is the caller's own. The data is what upstream published on the
// date PresetSource gives; a query of the chain is the truth.
func Preset(name string) (*Versions, error) {
	src, err := PresetSource(name)
	if err != nil {
		return nil, err
	}
	var all []*Version
	var format Format
	for _, f := range src.Files {
		var b []byte
		if f.Repository == "btcstake/btcstake" {
			b = RegtestExampleJSON()
		} else if b, err = presetFS.ReadFile("presets/" + f.File); err != nil {
			return nil, fmt.Errorf("params: preset %s: %v", name, err)
		}
		vs, err := ParseVersions(b)
		if err != nil {
			return nil, fmt.Errorf("params: preset %s: %s: %w", name, f.File, err)
		}
		// Files of Babylon's upgrade data number their versions from 0;
		// one after another they continue the count.
		if len(src.Files) > 1 && vs.format != FormatBabylonUpgrade {
			return nil, fmt.Errorf("params: preset %s: %s: only upgrade data can span several files", name, f.File)
		}
		format = vs.format
		all = append(all, vs.vs...)
	}
	if len(src.Files) > 1 {
		for i, v := range all {
			v.number = uint32(i)
		}
	}
	vs, err := newVersions(all, format, len(src.Files) > 1)
	if err != nil {
		return nil, fmt.Errorf("params: preset %s: %w", name, err)
	}
	return vs, nil
}
