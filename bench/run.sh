#!/usr/bin/env bash
# make bench: figures measured side by side in one invocation, printed as ratios.
#   bench/run.sh NESTLAB OUTDIR
set -euo pipefail
nestlab=${1:?usage: bench/run.sh NESTLAB OUTDIR}
out=${2:?usage: bench/run.sh NESTLAB OUTDIR}
rm -rf "$out"
mkdir -p "$out"

run() { # name config
	"$nestlab" run "$2" --out "$out/$1" --quiet >"$out/$1.stdout" 2>"$out/$1.stderr" || {
		echo "bench: $2 failed:" >&2
		cat "$out/$1.stderr" >&2
		exit 1
	}
}
# The value of field $3 in the first record of type $2 (and phase $4, if given) in results $1.
rec() {
	jq -r --arg t "$2" --arg f "$3" --arg p "${4:-}" \
		'select(.type == $t and ($p == "" or .phase == $p)) | .[$f]' "$out/$1/records.jsonl" | head -n 1
}

run with-exits bench/configs/exit-cost.xml
run without-exits bench/configs/exit-none.xml

ticks_per_call=$(rec with-exits phase ticks_per_call hypercalls)
calls=$(rec with-exits phase count hypercalls)
vm_loop=$(rec with-exits phase ticks compute)
native_loop=$(rec with-exits bench ticks)
exits_with=$(jq '[.levels[] | select(.path == "L0") | .exits.total] | add' "$out/with-exits/summary.json")
exits_without=$(jq '[.levels[] | select(.path == "L0") | .exits.total] | add' "$out/without-exits/summary.json")
wall_with=$(jq '.wall_seconds' "$out/with-exits/summary.json")
wall_without=$(jq '.wall_seconds' "$out/without-exits/summary.json")

for v in ticks_per_call calls vm_loop native_loop exits_with exits_without wall_with wall_without; do
	if [ -z "${!v}" ] || [ "${!v}" = null ]; then
		echo "bench: no value for $v in the records (see $out)" >&2
		exit 1
	fi
done

awk -v tpc="$ticks_per_call" -v calls="$calls" -v vm="$vm_loop" -v nat="$native_loop" \
	-v ew="$exits_with" -v eo="$exits_without" -v ww="$wall_with" -v wo="$wall_without" 'BEGIN {
	printf "nestlab bench (Bochs, one run of each configuration)\n"
	printf "  %-46s %12s %12s\n", "figure", "measured", "target"
	printf "  %-46s %12d %12s\n", "hypercall round trip through L0 (TSC ticks)", tpc, "<= 1000"
	printf "  %-46s %12.2f %12s\n", "wall time per VM exit under Bochs (us)", (ww - wo) * 1e6 / (ew - eo), "-"
	printf "  %-46s %12.4f %12s\n", "CPU-bound loop, in a VM / in L0 (ratio)", vm / nat, "<= 1.0100"
	printf "  (%d round trips; %d vs %d L0 exits; %.2f s vs %.2f s wall; loop %d vs %d ticks)\n", calls, ew, eo, ww, wo, vm, nat
}'
