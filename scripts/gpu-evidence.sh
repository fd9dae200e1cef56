#!/usr/bin/env bash
# The GPU evidence in one run of under 10 minutes: the bench (images/s, syncs per epoch,
# trials/hour per worker count), then a timed cnn20k search on the best worker count and the
# confirmation of its best nets over 3 seeds; numbers and logs go to $OUT (default
# runs/gpu-evidence), the storage too, so the report can be rendered from it afterwards.
#
#   bash scripts/gpu-evidence.sh                  # on the GPU machine, from the repository root
#   DEVICE=cpu WORKERS=2 BUDGET=300 TRIALS=4 EXTRA="--epochs 1 --train-limit 2000" \
#     MNIST_ROOT=../shared/data bash scripts/gpu-evidence.sh   # the plumbing, on a CPU (no bench)
# Environment: BUDGET (seconds for the whole script, default 540), TRIALS (40), DEVICE (cuda),
# BENCH (1: run the bench first; 0: skip it, WORKERS then sets the search's workers, default 4),
# CONFIRM (how many of the top trials to confirm at once, default 3; their 3 seeds each run
# side by side, at most 12 workers), RESERVE (seconds kept for the last trials and the
# confirmation, default 240), EXTRA (more options for the search and its confirmation),
# MNIST_ROOT (default .mnist), and .whl/ (wheels of what the machine lacks: installed into
# /tmp/site when they are missing).
set -uo pipefail
begin=$(date +%s)
out=${OUT:-runs/gpu-evidence}
mkdir -p "$out"
budget=${BUDGET:-540} trials=${TRIALS:-40} device=${DEVICE:-cuda} extra=${EXTRA:-}
log="$out/log.txt"
# shellcheck source=scripts/gpu-env.sh
source "$(dirname "$0")/gpu-env.sh"
say() { echo "[$(( $(date +%s) - begin ))s] $*" | tee -a "$log"; }
if [ "$device" = cuda ] && [ "${BENCH:-1}" = 1 ]; then
  say "bench: images/s and syncs per epoch"
  python3 -m search.bench --device cuda --batches 100 --json "$out/bench_data.json" 2>&1 \
    | tee -a "$log"
  say "bench: trials/hour per worker count"
  python3 -m search.bench workers --device cuda --json "$out/bench_workers.json" 2>&1 \
    | tee -a "$log"
fi
workers=$(python3 -c "import json; print(json.load(open('$out/bench_workers.json'))['best_workers'])" \
  2>/dev/null || echo "${WORKERS:-4}")
confirm=${CONFIRM:-3}
confirm_workers=$(( confirm * 3 < 12 ? confirm * 3 : 12 ))
reserve=${RESERVE:-240}
left=$(( budget - ($(date +%s) - begin) ))
timeout=$(( left - reserve > 60 ? left - reserve : 60 ))  # the last trials, then the confirmation
storage="sqlite:///$out/gpu.db"
say "search: cnn20k, $trials trials, $workers workers, no new trial after ${timeout}s"
started=$(date +%s.%N)
python3 -m search.run --study cnn20k --trials "$trials" --timeout "$timeout" --workers "$workers" \
  --device "$device" --storage "$storage" --no-confirm --plain $extra 2>&1 | tee -a "$log"
say "confirmation: the top $confirm over seeds 1 2 3"
python3 -m search.run --study cnn20k --confirm "$confirm" --seeds 1 2 3 --workers "$confirm_workers" \
  --device "$device" --storage "$storage" --plain $extra 2>&1 | tee -a "$log"
say "summary"
python3 - "$storage" "$started" "$out/evidence.json" <<'PY' 2>&1 | tee -a "$log"
import json, sys
from search.benchmarks.gpu import evidence
result = evidence(sys.argv[1], "cnn20k", float(sys.argv[2]), json_path=sys.argv[3])
first = result["first_confirmed_seconds"]
print(json.dumps(result, indent=1))
print(f"trials trained {result['trials_trained']} in {result['search_seconds']:.0f}s"
      f" = {result['trials_per_hour']:.0f} trials/hour (to the last trial's end)")
print("first confirmed >= 99.40%: " + (f"{first:.0f}s after the search started" if first
      else "none"))
PY
say "total"
