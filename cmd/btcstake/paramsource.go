package main

// --params PRESET|FILE and --btc-height N: how every command that takes
// staking parameters reads them and picks the version in force.

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/btcstake/btcstake/params"
)

// heightFlag is --btc-height: a Bitcoin block height, and whether it was
// given.
type heightFlag struct {
	v   uint32
	set bool
}

func (h *heightFlag) String() string {
	if !h.set {
		return ""
	}
	return strconv.FormatUint(uint64(h.v), 10)
}

func (h *heightFlag) Set(s string) error {
	v, err := strconv.ParseUint(strings.TrimSpace(s), 10, 32)
	if err != nil {
		return fmt.Errorf("%q is not a Bitcoin block height (0..4294967295)", s)
	}
	h.v, h.set = uint32(v), true
	return nil
}

func (h *heightFlag) Type() string { return "height" }

// paramsSource is the pair --params and --btc-height.
type paramsSource struct {
	arg    string
	height heightFlag
}

// add registers --params (with usage) and --btc-height.
func (s *paramsSource) add(cmd *cobra.Command, usage string) {
	cmd.Flags().StringVar(&s.arg, "params", "", usage)
	cmd.Flags().Var(&s.height, "btc-height", "Bitcoin height whose params version applies (needed when --params holds several versions)")
	completeValues(cmd, "params", params.PresetNames()...)
}

// paramsFlagUsage is the usage of --params in the commands that build or
// check a delegation.
const paramsFlagUsage = "staking parameters: a preset (bbn-1, bbn-1-phase1, bbn-test-6, regtest) or a params file in any format 'btcstake params' reads"

// loadedParams are the versions behind --params and where they came from.
type loadedParams struct {
	versions *params.Versions
	arg      string
	preset   *params.Source // nil for a file
}

// describe says where the versions came from, on one line.
func (l *loadedParams) describe() string {
	if l.preset != nil {
		if l.preset.Retrieved != "" {
			return fmt.Sprintf("preset %s (retrieved %s)", l.arg, l.preset.Retrieved)
		}
		return "preset " + l.arg
	}
	return "file " + l.arg
}

// networkHint names the preset that fits a network (chaincfg's name), for
// errors about --params.
func networkHint(network string) string {
	name := network
	if name == "testnet3" {
		name = "testnet"
	}
	if p := params.PresetForNetwork(name); p != "" {
		return fmt.Sprintf("for --network %s the preset is %s (--params %s), or a file from 'btcstake params fetch'", network, p, p)
	}
	return fmt.Sprintf("no preset fits --network %s: give a params file of your own ('btcstake params fetch' reads one from a Babylon node)", network)
}

// isPreset reports whether arg names an embedded preset.
func isPreset(arg string) bool { return slices.Contains(params.PresetNames(), arg) }

// load reads --params: a preset when arg is one of params.PresetNames(),
// otherwise a file in any format params.LoadVersions reads. network (its
// chaincfg name) only shapes the error when --params is missing. Every
// problem is a usage error naming --params.
func (s *paramsSource) load(network string) (*loadedParams, error) {
	arg := strings.TrimSpace(s.arg)
	if arg == "" {
		return nil, usagef("params", "required: a preset name (%s) or a params file; %s", strings.Join(params.PresetNames(), ", "), networkHint(network))
	}
	if isPreset(arg) {
		vs, err := params.Preset(arg)
		if err != nil {
			return nil, fmt.Errorf("--params: %w", err)
		}
		src, err := params.PresetSource(arg)
		if err != nil {
			return nil, fmt.Errorf("--params: %w", err)
		}
		return &loadedParams{versions: vs, arg: arg, preset: &src}, nil
	}
	vs, err := params.LoadVersions(arg)
	if err != nil {
		if _, statErr := os.Stat(arg); errors.Is(statErr, os.ErrNotExist) && !strings.ContainsAny(arg, `/\.`) {
			return nil, usagef("params", "%q is neither a preset (%s) nor a file", arg, strings.Join(params.PresetNames(), ", "))
		}
		return nil, usagef("params", "%v", err)
	}
	return &loadedParams{versions: vs, arg: arg}, nil
}

// forNetwork refuses a preset of another Bitcoin network than network
// (chaincfg's name) for a command that builds or checks a delegation: the
// regtest example's keys are public, and a mainnet committee means nothing
// on signet. Any preset may be tried on regtest; a file is the user's word.
func (l *loadedParams) forNetwork(network string) error {
	if l.preset == nil || network == "" || network == "regtest" || l.preset.BitcoinNetwork == network {
		return nil
	}
	hint := ""
	if p := params.PresetForNetwork(network); p != "" {
		hint = fmt.Sprintf(" (for %s: --params %s)", network, p)
	}
	return usagef("params", "the preset %s is for Bitcoin %s, not %s%s", l.arg, l.preset.BitcoinNetwork, network, hint)
}

// heightRange describes the activation heights of a source of several
// versions.
func heightRange(vs *params.Versions) string {
	all := vs.All()
	return fmt.Sprintf("%d versions, from heights %d to %d", len(all), all[0].ActivationHeight(), all[len(all)-1].ActivationHeight())
}

// version picks the version in force at --btc-height, or the source's only
// version when no height is given. Several versions and no height is a
// usage error: nothing guesses which one applies.
func (s *paramsSource) version(l *loadedParams) (*params.Version, error) {
	if s.height.set {
		v, err := l.versions.At(s.height.v)
		if err != nil {
			return nil, opError("btc-height", fmt.Errorf("%w (--params %s)", err, l.arg))
		}
		return v, nil
	}
	if l.versions.Len() == 1 {
		return l.versions.Latest(), nil
	}
	return nil, needHeight(l)
}

// needHeight is the usage error for a source of several versions without
// --btc-height.
func needHeight(l *loadedParams) error {
	return usagef("btc-height", "--params %s holds %s: give --btc-height N, the Bitcoin height whose version applies (docs/networks.md, \"Parameters: presets, heights and the chain\")",
		l.arg, heightRange(l.versions))
}

// stakingParams are the params of a delegation: the version in force (see
// version), which must have slashing values.
func (s *paramsSource) stakingParams(network string) (*params.Params, error) {
	l, err := s.load(network)
	if err != nil {
		return nil, err
	}
	if err := l.forNetwork(network); err != nil {
		return nil, err
	}
	v, err := s.version(l)
	if err != nil {
		return nil, err
	}
	return versionParams(l, v)
}

// versionParams are a version's params, or a usage error naming --params
// for a phase-1 (lock-only) version.
func versionParams(l *loadedParams, v *params.Version) (*params.Params, error) {
	p, err := v.StakingParams()
	if err != nil {
		return nil, usagef("params", "%s: %v", l.arg, err)
	}
	return p, nil
}
