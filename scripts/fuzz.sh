#!/usr/bin/env bash
# Runs every fuzz target of the module, one after another, for a given time
# each, and prints a summary: how long each fuzzed (and the wall time,
# building included), how many inputs it tried, and whether it found a
# failing input.
#
#   scripts/fuzz.sh 30s                       # every target, 30 s each
#   scripts/fuzz.sh 10s ./chain ./psbt        # the targets of some packages
#   FUZZ_MATCH=Preflight scripts/fuzz.sh 1m   # targets whose name matches
#
# The targets are found with `go test -list '^Fuzz'` in every package of the
# module (`go list ./...`), so a new target is run without editing this
# script. Each runs with `go test -run '^$' -fuzz '^Name$' -fuzztime T`.
# A new input that widens coverage is minimised for at most
# FUZZ_MINIMIZE (default 100x: a hundred runs), so the time goes to fuzzing.
# A failing input is written by Go to PKG/testdata/fuzz/NAME/ and named in
# the summary; `go test -run 'NAME/FILE' PKG` reruns it. The script exits 1
# if any target failed, 2 on bad usage. A run that Go ends with "context
# deadline exceeded" and no failing input is its own race at the -fuzztime
# deadline (go.dev/issue/75804, fixed in Go 1.27), reported but not failed.
set -uo pipefail
cd "$(dirname "$0")/.."

usage() { echo "usage: scripts/fuzz.sh DURATION [PACKAGE...]   (DURATION as go test -fuzztime: 30s, 2m, 1000x)" >&2; exit 2; }
[ $# -ge 1 ] || usage
fuzztime=$1
shift
case "$fuzztime" in
	*[0-9]s | *[0-9]m | *[0-9]h | *[0-9]ms | *[0-9]x) ;;
	*) usage ;;
esac
minimize=${FUZZ_MINIMIZE:-100x}
match=${FUZZ_MATCH:-}
if [ $# -gt 0 ]; then
	pkgs=$(go list "$@") || exit 2
else
	pkgs=$(go list ./...) || exit 2
fi

logdir=$(mktemp -d)
trap 'rm -rf "$logdir"' EXIT
summary=()
failed=0
flakes=0
total=0
start_all=$(date +%s)
for pkg in $pkgs; do
	# -list compiles the package's tests; a package without tests lists nothing.
	targets=$(go test -run '^$' -list '^Fuzz' "$pkg" 2>/dev/null | grep '^Fuzz' || true)
	for name in $targets; do
		if [ -n "$match" ] && [[ ! $name =~ $match ]]; then
			continue
		fi
		total=$((total + 1))
		log="$logdir/$total.log"
		echo "== $pkg $name ($fuzztime)"
		t0=$(date +%s.%N)
		go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" -fuzzminimizetime "$minimize" "$pkg" >"$log" 2>&1
		rc=$?
		t1=$(date +%s.%N)
		secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
		# The fuzzer's last progress line: "fuzz: elapsed: 30s, execs: 123 (4/sec), ...":
		# how long it fuzzed (the wall time adds building the instrumented
		# test binary and reading the corpus) and how many inputs it ran.
		fuzzed=$(grep -o 'elapsed: [0-9hms.]*' "$log" | tail -1 | awk '{print $2}')
		fuzzed=${fuzzed:-?}
		execs=$(grep -o 'execs: [0-9]*' "$log" | tail -1 | awk '{print $2}')
		execs=${execs:-?}
		if [ $rc -eq 0 ]; then
			result=ok
		elif ! grep -q 'Failing input written to' "$log" && grep -q '^ *context deadline exceeded$' "$log"; then
			# Go's own race at the -fuzztime deadline (go.dev/issue/75804,
			# fixed in Go 1.27): the coordinator reports its deadline as a
			# failure, with no failing input. Not a finding.
			result="ok (Go's fuzztime deadline race, go.dev/issue/75804; no failing input)"
			flakes=$((flakes + 1))
		else
			failed=$((failed + 1))
			input=$(grep -o 'testdata/fuzz/[^ ]*' "$log" | tail -1)
			dir=$(go list -f '{{.Dir}}' "$pkg")
			dir=./${dir#"$PWD"/}
			if [ -n "$input" ]; then
				result="FAILED: input $dir/$input; rerun: go test -run '${input#testdata/fuzz/}' $dir"
			else
				result=FAILED
			fi
			sed 's/^/    /' "$log" | tail -40
		fi
		summary+=("$(printf '%-14s %-36s %7s %7ss %11s  %s' "${pkg#github.com/btcstake/btcstake/}" "$name" "$fuzzed" "$secs" "$execs" "$result")")
	done
done

echo
printf '%-14s %-36s %7s %8s %11s  %s\n' package target fuzzed wall inputs result
for line in "${summary[@]}"; do
	echo "$line"
done
echo "$total targets, $failed failed, $flakes stopped by Go's deadline race, $(( $(date +%s) - start_all ))s in all"
[ "$failed" -eq 0 ]
