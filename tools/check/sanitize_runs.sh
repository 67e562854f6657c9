#!/usr/bin/env bash
# `make sanitize`'s program runs: tiny data, then one short train / eval / predict of the
# lessons' programs, built with ASan + UBSan (BIN_DIR = build-sanitize/bin). A sanitizer
# report ends the program with a non-zero status, which stops this script.
#   tools/check/sanitize_runs.sh BIN_DIR
set -euo pipefail
bin=${1:?usage: sanitize_runs.sh BIN_DIR}
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
run() {
  echo "+ ${*#"$bin"/}"
  "$@" >"$t/stdout" 2>"$t/stderr" || { cat "$t/stderr" >&2; exit 1; }
}
# ASan reserves terabytes of address space: the grader's per-case limit must be off.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
img=data/samples/skimage/coffee.png
s="--quiet --size 64 --seed 5"
run "$bin/datagen" scenes $s --min-scale 20 --max-scale 40 --max-objects 2 --count 8 \
  --split train --out "$t/scenes/train"
run "$bin/datagen" scenes $s --min-scale 20 --max-scale 40 --max-objects 2 --count 3 \
  --split test --out "$t/scenes/test"
run "$bin/datagen" figures $s --count 8 --out "$t/figures/train"
run "$bin/datagen" figures $s --count 3 --out "$t/figures/test"
run "$bin/datagen" show "$t/scenes/test/annotations.json" --images "$t/scenes/test/images" \
  --out "$t/show"
run "$bin/selective_search" predict --preset single --out "$t/pred" "$img"
run "$bin/selective_search" eval --preset single --limit 2 --data "$t/scenes/test"
run "$bin/classify_localize" train --scratch --quiet --epochs 1 --limit 8 --batch 4 \
  --backbone-channels 8,12 --data "$t/scenes" --model "$t/cl.safetensors"
run "$bin/classify_localize" eval --data "$t/scenes" --model "$t/cl.safetensors"
run "$bin/classify_localize" predict --model "$t/cl.safetensors" --out "$t/pred" "$img"
run "$bin/deeppose" train --quiet --epochs 1 --stages 2 --cascade-epochs 1 --input 32 \
  --limit 8 --data "$t/figures" --model "$t/dp.safetensors"
run "$bin/deeppose" eval --data "$t/figures" --model "$t/dp.safetensors"
run "$bin/deeppose" predict --model "$t/dp.safetensors" --out "$t/pred" "$img"
for p in rcnn spp_net; do
  run "$bin/$p" train --scratch --quiet --epochs 1 --steps-per-epoch 1 --batch 8 --limit 3 \
    --svm-rounds 0 --cache-dir "$t/cache" --data "$t/scenes" --model "$t/$p.safetensors"
  run "$bin/$p" eval --cache-dir "$t/cache" --data "$t/scenes" --model "$t/$p.safetensors"
done
run "$bin/fast_rcnn" train --scratch --quiet --epochs 1 --limit 3 --cache-dir "$t/cache" \
  --data "$t/scenes" --model "$t/fr.safetensors"
run "$bin/fast_rcnn" predict --cache-dir "$t/cache" --model "$t/fr.safetensors" \
  --out "$t/pred" "$t/scenes/test/images/000001.png"
run "$bin/sliding_window" train --scratch --quiet --epochs 1 --limit 4 --batch 8 \
  --data "$t/scenes" --model "$t/sw.safetensors"
run "$bin/sliding_window" predict --model "$t/sw.safetensors" --out "$t/pred" \
  "$t/scenes/test/images/000001.png"
for p in faster_rcnn yolo ssd; do
  run "$bin/$p" train --scratch --quiet --epochs 1 --batch 4 --limit 4 --val-images 2 \
    --data "$t/scenes" --model "$t/$p.safetensors"
  run "$bin/$p" eval --limit 2 --data "$t/scenes" --model "$t/$p.safetensors"
  run "$bin/$p" predict --model "$t/$p.safetensors" --out "$t/pred" \
    "$t/scenes/test/images/000001.png"
done
run "$bin/mask_rcnn" train --no-init --scratch --quiet --epochs 1 --limit 4 --val-images 2 \
  --mask-channels 4 --data "$t/scenes" --model "$t/mask_rcnn.safetensors"
run "$bin/mask_rcnn" eval --limit 2 --data "$t/scenes" --model "$t/mask_rcnn.safetensors"
run "$bin/mask_rcnn" predict --model "$t/mask_rcnn.safetensors" --out "$t/pred" \
  "$t/scenes/test/images/000001.png"
run "$bin/fcn" train --scratch --quiet --epochs 1 --batch 4 --limit 4 --val-images 2 \
  --c3 8 --c4 8 --upsample max-unpool --data "$t/scenes" --model "$t/fcn.safetensors"
run "$bin/fcn" eval --limit 2 --data "$t/scenes" --model "$t/fcn.safetensors"
run "$bin/fcn" predict --model "$t/fcn.safetensors" --out "$t/pred" "$img"
run "$bin/grade" --memory-limit 0 --unit-only --quiet
echo "sanitize_runs.sh: all runs clean"
