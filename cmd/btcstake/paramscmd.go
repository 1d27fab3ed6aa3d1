package main

// btcstake params show | list | fetch | presets: the staking parameters of
// Babylon's networks, from the embedded presets, a file or a Babylon node.

import (
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/spf13/cobra"

	"github.com/btcstake/btcstake/babylon"
	"github.com/btcstake/btcstake/params"
	"github.com/btcstake/btcstake/script"
)

func init() { register(newParamsCmd) }

func newParamsCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "params",
		Short: "Staking parameters: show the version in force, list versions, fetch from a Babylon node, presets",
		Long: `Babylon publishes its staking parameters as versions, each in force from a
Bitcoin height (docs/spec.md §8). These commands read them from an embedded
preset (bbn-1, bbn-1-phase1, bbn-test-6, regtest), a file in any format
Babylon publishes (or btcstake's own), or a Babylon node's REST endpoint.

Every command that takes --params takes a preset name or a file, and
--btc-height N to pick the version in force at N.`,
		Example: `  btcstake params presets
  btcstake params list --params bbn-1
  btcstake params show --params bbn-1 --btc-height 893362 --json
  btcstake params fetch --babylon-rest https://babylon.example/api --out bbn-1-live.json --compare bbn-1`,
	}
	cmd.AddCommand(newParamsShowCmd(a), newParamsListCmd(a), newParamsFetchCmd(a), newParamsPresetsCmd(a))
	return cmd
}

// paramsVersionJSON is one version under --json: Babylon's field names,
// bytes in hex, amounts in satoshis.
type paramsVersionJSON struct {
	// Version is null when the source does not number its versions
	// (btcstake's own format, Babylon's Params response).
	Version                      *uint32  `json:"version"`
	BtcActivationHeight          uint32   `json:"btc_activation_height"`
	LockOnly                     bool     `json:"lock_only"`
	CovenantPks                  []string `json:"covenant_pks"`
	CovenantQuorum               uint32   `json:"covenant_quorum"`
	MinStakingValueSat           int64    `json:"min_staking_value_sat"`
	MaxStakingValueSat           int64    `json:"max_staking_value_sat"`
	MinStakingTimeBlocks         uint16   `json:"min_staking_time_blocks"`
	MaxStakingTimeBlocks         uint16   `json:"max_staking_time_blocks"`
	UnbondingTimeBlocks          uint16   `json:"unbonding_time_blocks"`
	UnbondingFeeSat              int64    `json:"unbonding_fee_sat"`
	SlashingPkScript             string   `json:"slashing_pk_script,omitempty"`
	SlashingRate                 string   `json:"slashing_rate,omitempty"`
	MinSlashingTxFeeSat          int64    `json:"min_slashing_tx_fee_sat,omitempty"`
	Tag                          string   `json:"tag,omitempty"`
	MinCommissionRate            string   `json:"min_commission_rate,omitempty"`
	DelegationCreationBaseGasFee uint64   `json:"delegation_creation_base_gas_fee,omitempty"`
	AllowListExpirationHeight    uint64   `json:"allow_list_expiration_height,omitempty"`
	StakingCapSat                int64    `json:"staking_cap_sat,omitempty"`
	CapHeight                    uint32   `json:"cap_height,omitempty"`
	ConfirmationDepth            uint32   `json:"confirmation_depth,omitempty"`
}

func versionJSONOf(v *params.Version) paramsVersionJSON {
	c, ex := v.Config(), v.Babylon()
	j := paramsVersionJSON{BtcActivationHeight: v.ActivationHeight(), LockOnly: v.LockOnly(),
		CovenantQuorum: c.CovenantQuorum, MinStakingValueSat: c.MinStakingValue, MaxStakingValueSat: c.MaxStakingValue,
		MinStakingTimeBlocks: c.MinStakingTime, MaxStakingTimeBlocks: c.MaxStakingTime,
		UnbondingTimeBlocks: c.UnbondingTime, UnbondingFeeSat: c.UnbondingFee,
		SlashingPkScript: hex.EncodeToString(c.SlashingPkScript), SlashingRate: c.SlashingRate, MinSlashingTxFeeSat: c.MinSlashingFee,
		Tag: hex.EncodeToString(c.Tag), MinCommissionRate: ex.MinCommissionRate, DelegationCreationBaseGasFee: ex.DelegationCreationBaseGasFee,
		AllowListExpirationHeight: ex.AllowListExpirationHeight, StakingCapSat: ex.StakingCap, CapHeight: ex.CapHeight,
		ConfirmationDepth: ex.ConfirmationDepth}
	if v.NumberKnown() {
		n := v.Number()
		j.Version = &n
	}
	for _, k := range c.CovenantKeys {
		j.CovenantPks = append(j.CovenantPks, script.XOnly(k).String())
	}
	return j
}

// paramsSourceJSON says where the versions came from.
type paramsSourceJSON struct {
	ParamsSource string `json:"params_source"` // the --params value
	SourceKind   string `json:"source_kind"`   // "preset" or "file"
	Retrieved    string `json:"retrieved,omitempty"`
	Format       string `json:"format"`
	VersionCount int    `json:"version_count"`
}

func sourceJSONOf(l *loadedParams) paramsSourceJSON {
	j := paramsSourceJSON{ParamsSource: l.arg, SourceKind: "file", Format: string(l.versions.Format()), VersionCount: l.versions.Len()}
	if l.preset != nil {
		j.SourceKind, j.Retrieved = "preset", l.preset.Retrieved
	}
	return j
}

type paramsShowJSON struct {
	paramsSourceJSON
	BtcHeight  *uint32           `json:"btc_height,omitempty"`
	SelectedBy string            `json:"selected_by"` // "btc_height", "only" or "latest"
	Version    paramsVersionJSON `json:"params"`
}

type paramsListJSON struct {
	paramsSourceJSON
	Versions []paramsVersionJSON `json:"versions"`
}

// versionName is "version 4", or "the only version" for an unnumbered one.
func versionName(v *params.Version) string {
	if v.NumberKnown() {
		return fmt.Sprintf("version %d", v.Number())
	}
	return "the only version"
}

// approxBlocks says how long n blocks take at ten minutes a block.
func approxBlocks(n uint64) string {
	d := time.Duration(n) * 10 * time.Minute
	days := d.Hours() / 24
	switch {
	case d < 48*time.Hour:
		return fmt.Sprintf("about %.0f hours", d.Hours())
	case days < 60:
		return fmt.Sprintf("about %.0f days", days)
	}
	return fmt.Sprintf("about %.0f days, %.0f months", days, days/30.44)
}

// scriptWords is an output script in hex with its reading: OP_RETURN and
// the text it carries, or the script's kind.
func scriptWords(s []byte) string {
	if len(s) > 2 && s[0] == txscript.OP_RETURN {
		if pushes, err := txscript.PushedData(s[1:]); err == nil && len(pushes) == 1 && printable(pushes[0]) {
			return fmt.Sprintf("%x (OP_RETURN %q: burnt)", s, pushes[0])
		}
	}
	return fmt.Sprintf("%x (%s)", s, txscript.GetScriptClass(s))
}

func printable(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return false
		}
	}
	return len(b) > 0
}

func (a *app) printParamsVersion(v *params.Version) {
	c, ex := v.Config(), v.Babylon()
	a.printf("  covenant committee     %d of %d keys\n", c.CovenantQuorum, len(c.CovenantKeys))
	for _, k := range c.CovenantKeys {
		a.printf("    %s\n", script.XOnly(k))
	}
	a.printf("  staking value          %d .. %d sat\n", c.MinStakingValue, c.MaxStakingValue)
	if c.MinStakingTime == c.MaxStakingTime {
		a.printf("  staking time           exactly %d blocks (%s)\n", c.MinStakingTime, approxBlocks(uint64(c.MinStakingTime)))
	} else {
		a.printf("  staking time           %d .. %d blocks (%s at most)\n", c.MinStakingTime, c.MaxStakingTime, approxBlocks(uint64(c.MaxStakingTime)))
	}
	a.printf("  unbonding time         %d blocks (%s)\n", c.UnbondingTime, approxBlocks(uint64(c.UnbondingTime)))
	a.printf("  unbonding fee          %d sat\n", c.UnbondingFee)
	if v.LockOnly() {
		a.printf("  slashing               none: a phase-1 (lock-only) version, which cannot build or check a delegation\n")
	} else {
		a.printf("  slashing rate          %s of the stake to %s\n", c.SlashingRate, scriptWords(c.SlashingPkScript))
		a.printf("  min slashing fee       %d sat\n", c.MinSlashingFee)
	}
	if len(c.Tag) > 0 {
		a.printf("  tag                    %x\n", c.Tag)
	}
	if ex.MinCommissionRate != "" {
		a.printf("  min commission rate    %s\n", ex.MinCommissionRate)
	}
	if ex.DelegationCreationBaseGasFee != 0 {
		a.printf("  registration base gas  %d (a registration without inclusion proof pays it)\n", ex.DelegationCreationBaseGasFee)
	}
	if ex.AllowListExpirationHeight != 0 {
		a.printf("  allow list expires     at Babylon height %d\n", ex.AllowListExpirationHeight)
	}
	if ex.StakingCap != 0 {
		a.printf("  staking cap            %d sat\n", ex.StakingCap)
	}
	if ex.CapHeight != 0 {
		a.printf("  cap height             %d (last Bitcoin height accepting stakes)\n", ex.CapHeight)
	}
	if ex.ConfirmationDepth != 0 {
		a.printf("  confirmation depth     %d blocks\n", ex.ConfirmationDepth)
	}
}

func newParamsShowCmd(a *app) *cobra.Command {
	var ps paramsSource
	cmd := &cobra.Command{
		Use:   "show",
		Short: "Show the params version in force at a Bitcoin height (default: the latest)",
		Long: `Shows one params version of --params (a preset or a file): the one in force
at --btc-height (the last version whose activation height is at most it), or
without --btc-height the latest version, which the output says.`,
		Example: `  btcstake params show --params bbn-1 --btc-height 893362
  btcstake params show --params bbn-1-live.json --json
  btcstake params show --params params/regtest-example.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			l, err := ps.load(a.netName())
			if err != nil {
				return err
			}
			j := paramsShowJSON{paramsSourceJSON: sourceJSONOf(l)}
			var v *params.Version
			switch {
			case ps.height.set:
				if v, err = ps.version(l); err != nil {
					return err
				}
				h := ps.height.v
				j.BtcHeight, j.SelectedBy = &h, "btc_height"
			case l.versions.Len() == 1:
				v, j.SelectedBy = l.versions.Latest(), "only"
			default:
				v, j.SelectedBy = l.versions.Latest(), "latest"
			}
			j.Version = versionJSONOf(v)
			if a.json {
				return a.printJSON(j)
			}
			a.printf("%s of %s, in force from Bitcoin height %d\n", versionName(v), l.describe(), v.ActivationHeight())
			switch j.SelectedBy {
			case "btc_height":
				a.printf("  selected at height %d\n", ps.height.v)
			case "latest":
				a.printf("  the latest of %s (no --btc-height given)\n", heightRange(l.versions))
			}
			a.printParamsVersion(v)
			return nil
		},
	}
	ps.add(cmd, "the params: a preset (bbn-1, bbn-1-phase1, bbn-test-6, regtest) or a file")
	return cmd
}

func newParamsListCmd(a *app) *cobra.Command {
	var ps paramsSource
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List every params version: number, activation height and key values",
		Long: `Lists the params versions of --params (a preset or a file) in order of
activation height, with each version's committee, staking value and time
ranges, unbonding time and fee and slashing values.`,
		Example: `  btcstake params list --params bbn-1
  btcstake params list --params bbn-1-live.json --json | jq '.versions[] | {version, btc_activation_height}'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if ps.height.set {
				return usagef("btc-height", "list shows every version; use 'params show --btc-height'")
			}
			l, err := ps.load(a.netName())
			if err != nil {
				return err
			}
			all := l.versions.All()
			j := paramsListJSON{paramsSourceJSON: sourceJSONOf(l)}
			for _, v := range all {
				j.Versions = append(j.Versions, versionJSONOf(v))
			}
			if a.json {
				return a.printJSON(j)
			}
			a.printf("%s: %d version(s), format %s\n", l.describe(), len(all), l.versions.Format())
			a.printf("%-8s %-12s %-9s %-28s %-14s %-10s %-14s %s\n", "version", "from height", "covenant", "staking value (sat)", "staking time", "unbonding", "unbonding fee", "slashing")
			for _, v := range all {
				c := v.Config()
				num := "-"
				if v.NumberKnown() {
					num = fmt.Sprint(v.Number())
				}
				stakingTime := fmt.Sprint(c.MinStakingTime)
				if c.MaxStakingTime != c.MinStakingTime {
					stakingTime = fmt.Sprintf("%d..%d", c.MinStakingTime, c.MaxStakingTime)
				}
				slashing := "none (lock-only)"
				if !v.LockOnly() {
					slashing = fmt.Sprintf("rate %s, min fee %d sat", c.SlashingRate, c.MinSlashingFee)
				}
				a.printf("%-8s %-12d %-9s %-28s %-14s %-10d %-14s %s\n", num, v.ActivationHeight(),
					fmt.Sprintf("%d of %d", c.CovenantQuorum, len(c.CovenantKeys)),
					fmt.Sprintf("%d..%d", c.MinStakingValue, c.MaxStakingValue), stakingTime, c.UnbondingTime,
					fmt.Sprintf("%d sat", c.UnbondingFee), slashing)
			}
			return nil
		},
	}
	ps.add(cmd, "the params: a preset (bbn-1, bbn-1-phase1, bbn-test-6, regtest) or a file")
	return cmd
}

type paramsDiffJSON struct {
	Version      uint32 `json:"version"`
	Field        string `json:"field"`
	PresetValue  string `json:"preset_value"`
	FetchedValue string `json:"fetched_value"`
}

type paramsFetchJSON struct {
	BabylonREST               string           `json:"babylon_rest"`
	OutFile                   string           `json:"out_file"`
	VersionCount              int              `json:"version_count"`
	LatestVersion             uint32           `json:"latest_version"`
	LatestBtcActivationHeight uint32           `json:"latest_btc_activation_height"`
	ComparedWith              string           `json:"compared_with,omitempty"`
	Differences               []paramsDiffJSON `json:"differences,omitempty"`
	SameAsPreset              *bool            `json:"same_as_preset,omitempty"`
}

func newParamsFetchCmd(a *app) *cobra.Command {
	var rest, out, compare string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "fetch",
		Short: "Fetch every params version from a Babylon node's REST endpoint and save it",
		Long: `Asks a Babylon node's REST ("LCD") endpoint for every staking params version
(GET /babylon/btcstaking/v1/params_versions, following its pages), checks
each version and the sequence as every --params file is checked, and writes
the answer to --out atomically. An existing file is replaced only with
--force; on any error nothing is written.

--compare PRESET lists where the chain's answer differs from a preset: where
they differ, the chain is right. The chain's answer is the truth only as far
as you trust the node: prefer one you run, and compare with a second source.`,
		Example: `  btcstake params fetch --babylon-rest https://babylon.example/api --out bbn-1-live.json --compare bbn-1
  btcstake params list --params bbn-1-live.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			base, err := babylon.NormalizeBaseURL(rest)
			if err != nil {
				return usagef("babylon-rest", "%v", err)
			}
			if timeout <= 0 {
				return usagef("timeout", "must be positive")
			}
			if err := a.checkOutput("out", out); err != nil {
				return err
			}
			var preset *params.Versions
			if compare != "" {
				if !isPreset(compare) {
					return usagef("compare", "%q is not a preset (%s)", compare, strings.Join(params.PresetNames(), ", "))
				}
				if preset, err = params.Preset(compare); err != nil {
					return fmt.Errorf("--compare: %w", err)
				}
			}
			vs, doc, err := babylon.FetchParamsVersions(cmd.Context(), base, babylon.Options{Timeout: timeout})
			if err != nil {
				return fmt.Errorf("--babylon-rest: %w", err)
			}
			if err := a.writeOutput("out", out, doc); err != nil {
				return err
			}
			latest := vs.Latest()
			j := paramsFetchJSON{BabylonREST: base, OutFile: out, VersionCount: vs.Len(), LatestVersion: latest.Number(),
				LatestBtcActivationHeight: latest.ActivationHeight()}
			var diffs []babylon.Difference
			if preset != nil {
				diffs = babylon.Compare(preset, vs, babylon.CompareOptions{})
				same := len(diffs) == 0
				j.ComparedWith, j.SameAsPreset = compare, &same
				for _, d := range diffs {
					j.Differences = append(j.Differences, paramsDiffJSON{Version: d.Version, Field: d.Field, PresetValue: d.A, FetchedValue: d.B})
				}
			}
			if a.json {
				return a.printJSON(j)
			}
			a.printf("fetched %d params version(s) from %s; the latest, version %d, is in force from Bitcoin height %d\n",
				vs.Len(), base, latest.Number(), latest.ActivationHeight())
			if preset != nil {
				if len(diffs) == 0 {
					a.printf("the same as the preset %s\n", compare)
				} else {
					a.printf("%d difference(s) from the preset %s (the chain is right):\n", len(diffs), compare)
					for _, d := range diffs {
						a.printf("  %s\n", d.Describe("preset", "chain"))
					}
				}
			}
			a.printf("wrote %s (use it as --params %s)\n", out, out)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&rest, "babylon-rest", "", "a Babylon node's REST (LCD) base URL, http:// or https:// (a path prefix such as /api is kept)")
	addOutFlag(cmd, &out, "out", "file to write the params to (any --params flag reads it)")
	f.StringVar(&compare, "compare", "", "a preset to compare the chain's answer with (bbn-1, bbn-test-6, ...)")
	f.DurationVar(&timeout, "timeout", babylon.DefaultTimeout, "give up after this long")
	completeValues(cmd, "compare", params.PresetNames()...)
	_ = cmd.MarkFlagRequired("babylon-rest")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

type presetFileJSON struct {
	DataFile       string `json:"data_file"`
	Format         string `json:"format"`
	Versions       string `json:"versions"`
	Repository     string `json:"repository"`
	RepositoryFile string `json:"repository_file"`
	Ref            string `json:"ref,omitempty"`
	Commit         string `json:"commit,omitempty"`
	SHA256         string `json:"sha256,omitempty"`
	Note           string `json:"note"`
}

type presetJSON struct {
	Name                string           `json:"name"`
	ChainID             string           `json:"chain_id"`
	BitcoinNetwork      string           `json:"bitcoin_network"`
	Retrieved           string           `json:"retrieved,omitempty"`
	VersionCount        int              `json:"version_count"`
	CheckpointTag       string           `json:"checkpoint_tag,omitempty"`
	CheckpointTagSource string           `json:"checkpoint_tag_source,omitempty"`
	Note                string           `json:"note"`
	Files               []presetFileJSON `json:"files"`
}

func newParamsPresetsCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "presets",
		Short: "List the embedded presets: chain, network, versions and where each comes from",
		Long: `Lists the params presets built into btcstake: each one's Babylon chain and
Bitcoin network, its versions, the date it was copied, and for each data file
the upstream repository, path and commit it was copied from. Babylon's
governance can add versions at any time: compare a preset with the chain
('btcstake params fetch --compare').`,
		Example: `  btcstake params presets
  btcstake params presets --json | jq '.[] | {name, retrieved}'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var out []presetJSON
			for _, name := range params.PresetNames() {
				src, err := params.PresetSource(name)
				if err != nil {
					return err
				}
				vs, err := params.Preset(name)
				if err != nil {
					return err
				}
				j := presetJSON{Name: name, ChainID: src.ChainID, BitcoinNetwork: src.BitcoinNetwork, Retrieved: src.Retrieved,
					VersionCount: vs.Len(), CheckpointTag: src.CheckpointTag, CheckpointTagSource: src.CheckpointTagSource, Note: src.Note}
				for _, f := range src.Files {
					j.Files = append(j.Files, presetFileJSON{DataFile: f.File, Format: f.Format, Versions: f.Versions, Repository: f.Repository,
						RepositoryFile: f.Path, Ref: f.Ref, Commit: f.Commit, SHA256: f.SHA256, Note: f.Note})
				}
				out = append(out, j)
			}
			if a.json {
				return a.printJSON(out)
			}
			for i, p := range out {
				if i > 0 {
					a.printf("\n")
				}
				chainID := "chain " + p.ChainID
				if p.ChainID == "" {
					chainID = "no Babylon chain"
				}
				a.printf("%s: %s, Bitcoin %s, %d version(s)", p.Name, chainID, p.BitcoinNetwork, p.VersionCount)
				if p.Retrieved != "" {
					a.printf(", retrieved %s", p.Retrieved)
				}
				a.printf("\n")
				if fit := params.PresetForNetwork(p.BitcoinNetwork); fit == p.Name {
					a.printf("  the preset for --network %s\n", p.BitcoinNetwork)
				}
				if p.CheckpointTag != "" {
					a.printf("  checkpoint tag %s (%s)\n", p.CheckpointTag, p.CheckpointTagSource)
				}
				for _, f := range p.Files {
					at := f.Ref
					if f.Commit != "" {
						at = strings.TrimSpace(fmt.Sprintf("%s %s", f.Ref, f.Commit))
					}
					if at != "" {
						at = " at " + at
					}
					a.printf("  versions %s: %s %s%s\n", f.Versions, f.Repository, f.RepositoryFile, at)
				}
				a.printf("  %s\n", p.Note)
			}
			return nil
		},
	}
}
