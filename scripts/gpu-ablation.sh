#!/usr/bin/env bash
# A study on a GPU machine, resumable across calls: runs `search.run --study $STUDY` (default
# ablation) with ARGS (for an ablation: the base and its variants) on WORKERS processes sharing
# one GPU, starts no new run after STOP seconds, then copies the storage (and the log) to $OUT
# so it can be rendered elsewhere.
# Run it again on the same machine (the storage stays in runs/) or carry the storage back to
# resume: the study takes up the runs it has not finished.
#
#   ARGS="--variants bn_before_relu no_dropout" bash scripts/gpu-ablation.sh   # GPU machine
#   DEVICE=cpu WORKERS=2 STOP=30 ARGS="--variants no_dropout --epochs 1 --train-limit 500" \
#     MNIST_ROOT=../shared/data bash scripts/gpu-ablation.sh             # the plumbing, on a CPU
#   STUDY=frontier WORKERS=16 STOP=280 HARD=540 ARGS="--trials 1000 --no-confirm" \
#     bash scripts/gpu-ablation.sh      # a search: no new trial after 280 s; confirm it elsewhere
# Environment: ARGS (options for search.run), WORKERS (default 7: one per baseline variant, so
# the runs of one seed go side by side), STOP (seconds, default 380), HARD (seconds after which
# the runs still going are interrupted as by Ctrl-C, so the storage is copied back, default
# 560), DB (the storage file, default runs/$STUDY-gpu.db), DEVICE (cuda), MNIST_ROOT (.mnist),
# .whl/ (wheels of what the machine lacks: installed into /tmp/site when they are missing).
set -uo pipefail
begin=$(date +%s)
out=${OUT:-runs/gpu-ablation}
mkdir -p "$out" runs
study=${STUDY:-ablation}
db=${DB:-runs/$study-gpu.db}
log="$out/log.txt"
# shellcheck source=scripts/gpu-env.sh
source "$(dirname "$0")/gpu-env.sh"
say() { echo "[$(date -u +%FT%TZ) +$(( $(date +%s) - begin ))s] $*" | tee -a "$log"; }
say "$study on ${WORKERS:-7} workers, no new run after ${STOP:-380}s: ${ARGS:-}"
# shellcheck disable=SC2086  # ARGS is a list of options
timeout -s INT -k 20 $(( ${HARD:-560} - ($(date +%s) - begin) )) \
  python3 -m search.run --study "$study" ${ARGS:-} --workers "${WORKERS:-7}" \
  --device "${DEVICE:-cuda}" --timeout "${STOP:-380}" --storage "sqlite:///$db" --plain 2>&1 \
  | tee -a "$log"
say "done; storage copied to $out"
cp "$db" "$out/"
