#!/usr/bin/env bash
# Shows that a refactoring changed no result: every program trains a tiny model with a
# fixed seed, evaluates and predicts, once with the binaries of a base revision and once
# with the working tree's, and the model files (cmp) and the JSON outputs (timings
# removed) must be identical.
#   tools/check/same_results.sh BASE_REV     # builds BASE_REV in a temporary worktree
#   tools/check/same_results.sh --bin DIR    # or: compare with binaries already built
# Needs the working tree built (bin/) and Fashion-MNIST (make data). Exit 1 on any
# difference, naming the program and the file.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
base_bin=""
if [ "${1:-}" = "--bin" ]; then
  base_bin=$(cd "$2" && pwd)
elif [ -n "${1:-}" ]; then
  wt=$(mktemp -d /tmp/detlab-base.XXXXXX)
  git worktree add --detach "$wt" "$1" >/dev/null
  trap 'git worktree remove --force "$wt" >/dev/null 2>&1 || true' EXIT
  cmake -S "$wt" -B "$wt/build" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$wt/build" -j "$(nproc)" --target classify classify_localize deeppose \
    sliding_window selective_search rcnn spp_net fast_rcnn datagen >/dev/null
  # Programs newer than some bases: built where the base has them.
  for p in faster_rcnn yolo ssd mask_rcnn faces fcn; do
    cmake --build "$wt/build" -j "$(nproc)" --target "$p" >/dev/null 2>&1 || true
  done
  base_bin="$wt/bin"
else
  echo "usage: $0 BASE_REV | --bin DIR" >&2
  exit 2
fi

work=$(mktemp -d /tmp/detlab-same.XXXXXX)
data="$work/data"
# The data comes from the base's datagen: the same input for both.
"$base_bin/datagen" scenes --quiet --count 8 --size 64 --split train --seed 1 --out "$data/scenes/train"
"$base_bin/datagen" scenes --quiet --count 4 --size 64 --split test --seed 2 --out "$data/scenes/test"
"$base_bin/datagen" scenes --quiet --single --min-scale 20 --max-scale 48 --count 48 --size 64 \
  --split train --seed 1 --out "$data/single/train"
"$base_bin/datagen" scenes --quiet --single --min-scale 20 --max-scale 48 --count 16 --size 64 \
  --split test --seed 2 --out "$data/single/test"
"$base_bin/datagen" figures --quiet --count 24 --size 64 --seed 1 --out "$data/figures/train"
"$base_bin/datagen" figures --quiet --count 8 --size 64 --seed 2 --out "$data/figures/test"
img="$data/scenes/test/images/000001.png"
"$base_bin/classify" train --quiet --threads 2 --seed 4 --limit 300 --epochs 1 --batch 50 \
  --model "$work/classify.safetensors" >/dev/null

# run SIDE: every program's tiny train / eval / predict into $work/SIDE.
run() {
  local bin=$1 out=$2 s="$data/scenes" m="$2/models"
  mkdir -p "$m"
  local q="--quiet --threads 2 --seed 3"
  "$bin/classify" train $q --limit 300 --epochs 1 --batch 50 --model "$m/classify.safetensors" >/dev/null
  "$bin/classify" eval --json --threads 2 --model "$m/classify.safetensors" > "$out/classify.eval.json"
  # Both sides transfer from the same file: its path is in the models' metadata.
  local pre="--pretrained $work/classify.safetensors"
  "$bin/classify_localize" train $q $pre --epochs 1 --limit 32 --batch 16 --data "$data/single" \
    --model "$m/classify_localize.safetensors" >/dev/null
  "$bin/classify_localize" eval --json --threads 2 --data "$data/single" \
    --model "$m/classify_localize.safetensors" > "$out/classify_localize.eval.json"
  "$bin/classify_localize" predict --json --threads 2 --model "$m/classify_localize.safetensors" \
    --out "$out/pred" "$data/single/test/images/000001.png" > "$out/classify_localize.predict.json"
  "$bin/deeppose" train $q --epochs 1 --cascade-epochs 1 --stages 2 --input 32 --limit 16 \
    --data "$data/figures" --model "$m/deeppose.safetensors" >/dev/null
  "$bin/deeppose" eval --json --threads 2 --data "$data/figures" \
    --model "$m/deeppose.safetensors" > "$out/deeppose.eval.json"
  "$bin/sliding_window" train $q $pre --epochs 1 --batch 32 --scales 20,40 --data "$s" \
    --model "$m/sliding_window.safetensors" >/dev/null
  "$bin/sliding_window" eval --json --threads 2 --scales 20,40 --data "$s" \
    --model "$m/sliding_window.safetensors" > "$out/sliding_window.eval.json"
  "$bin/selective_search" eval --json --threads 2 --data "$s/test" > "$out/selective_search.eval.json"
  for p in rcnn spp_net; do
    "$bin/$p" train $q $pre --epochs 1 --steps-per-epoch 2 --batch 8 --limit 4 --svm-rounds 1 \
      --cache-dir '' --data "$s" --model "$m/$p.safetensors" >/dev/null
    "$bin/$p" eval --json --threads 2 --cache-dir '' --data "$s" --model "$m/$p.safetensors" \
      > "$out/$p.eval.json"
    "$bin/$p" predict --json --threads 2 --cache-dir '' --model "$m/$p.safetensors" \
      --out "$out/pred" "$img" > "$out/$p.predict.json"
  done
  "$bin/fast_rcnn" train $q $pre --epochs 1 --val-images 2 --cache-dir '' --data "$s" \
    --model "$m/fast_rcnn.safetensors" >/dev/null
  "$bin/fast_rcnn" eval --json --threads 2 --cache-dir '' --data "$s" \
    --model "$m/fast_rcnn.safetensors" > "$out/fast_rcnn.eval.json"
  "$bin/fast_rcnn" predict --json --threads 2 --cache-dir '' --model "$m/fast_rcnn.safetensors" \
    --out "$out/pred" "$img" > "$out/fast_rcnn.predict.json"
  if [ -x "$bin/faster_rcnn" ]; then  # compared only when the base has it too
    "$bin/faster_rcnn" train $q $pre --epochs 1 --val-images 2 --data "$s" \
      --model "$m/faster_rcnn.safetensors" >/dev/null
    "$bin/faster_rcnn" eval --json --threads 2 --cache-dir '' --data "$s" \
      --model "$m/faster_rcnn.safetensors" > "$out/faster_rcnn.eval.json"
    "$bin/faster_rcnn" predict --json --threads 2 --model "$m/faster_rcnn.safetensors" \
      --out "$out/pred" "$img" > "$out/faster_rcnn.predict.json"
  fi
  if [ -x "$bin/mask_rcnn" ]; then  # compared only when the base has it too
    "$bin/mask_rcnn" train $q $pre --no-init --epochs 1 --val-images 2 --data "$s" \
      --model "$m/mask_rcnn.safetensors" >/dev/null
    "$bin/mask_rcnn" eval --json --threads 2 --data "$s" \
      --model "$m/mask_rcnn.safetensors" > "$out/mask_rcnn.eval.json"
    "$bin/mask_rcnn" predict --json --threads 2 --model "$m/mask_rcnn.safetensors" \
      --out "$out/pred" "$img" > "$out/mask_rcnn.predict.json"
  fi
  # mask_rcnn --keypoints (lesson 07, §5) on the figures, where the base has it too.
  if [ -x "$bin/mask_rcnn" ] && "$bin/mask_rcnn" train --help | grep -q -- --keypoints; then
    "$bin/mask_rcnn" train --keypoints $q $pre --no-init --epochs 1 --val-images 2 \
      --data "$data/figures" --model "$m/keypoint_rcnn.safetensors" >/dev/null
    "$bin/mask_rcnn" eval --keypoints --json --threads 2 --data "$data/figures" \
      --model "$m/keypoint_rcnn.safetensors" > "$out/keypoint_rcnn.eval.json"
    "$bin/mask_rcnn" predict --keypoints --json --threads 2 --threshold 0 \
      --model "$m/keypoint_rcnn.safetensors" --out "$out/pred" \
      "$data/figures/test/images/000001.png" > "$out/keypoint_rcnn.predict.json"
  fi
  if [ -x "$bin/yolo" ]; then  # compared only when the base has it too
    "$bin/yolo" train $q $pre --epochs 1 --batch 4 --val-images 2 --data "$s" \
      --model "$m/yolo.safetensors" >/dev/null
    "$bin/yolo" eval --json --threads 2 --data "$s" --model "$m/yolo.safetensors" > "$out/yolo.eval.json"
    "$bin/yolo" predict --json --threads 2 --model "$m/yolo.safetensors" \
      --out "$out/pred" "$img" > "$out/yolo.predict.json"
  fi
  if [ -x "$bin/fcn" ]; then  # compared only when the base has it too
    "$bin/fcn" train $q $pre --epochs 1 --batch 4 --val-images 2 --data "$s" \
      --model "$m/fcn.safetensors" >/dev/null
    "$bin/fcn" eval --json --threads 2 --data "$s" --model "$m/fcn.safetensors" > "$out/fcn.eval.json"
    "$bin/fcn" predict --json --threads 2 --model "$m/fcn.safetensors" \
      --out "$out/pred" "$img" > "$out/fcn.predict.json"
  fi
  if [ -x "$bin/ssd" ]; then  # compared only when the base has it too
    "$bin/ssd" train $q $pre --epochs 1 --val-images 2 --data "$s" \
      --model "$m/ssd.safetensors" >/dev/null
    "$bin/ssd" eval --json --threads 2 --data "$s" \
      --model "$m/ssd.safetensors" > "$out/ssd.eval.json"
    "$bin/ssd" predict --json --threads 2 --model "$m/ssd.safetensors" \
      --out "$out/pred" "$img" > "$out/ssd.predict.json"
  fi
  # face-api's imported networks (make pretrained): predictions on a real photo.
  local fa="$top/data/pretrained/face-api" photo="$top/data/samples/skimage/astronaut.png"
  if [ -x "$bin/faces" ] && [ -f "$fa/ssd_mobilenetv1_model.safetensors" ]; then
    "$bin/faces" predict --json --threads 2 --out "$out/pred" "$photo" > "$out/faces.tiny.predict.json"
    "$bin/faces" predict --json --threads 2 --detector ssd --landmarks --out "$out/pred" "$photo" \
      > "$out/faces.ssd.predict.json"
    cp "$out/pred/astronaut.landmarks.json" "$out/faces.landmarks.json"
  fi
}
mkdir -p "$work/base" "$work/new"
run "$base_bin" "$work/base"
run "$top/bin" "$work/new"

# JSON without wall times (keys naming seconds, rates or paths of this run's directory).
strip() {
  /usr/bin/python3 - "$1" "$2" <<'PY'
import json, sys
def clean(v):
    if isinstance(v, dict):
        return {k: clean(x) for k, x in v.items()
                if not any(w in k for w in ("second", "per_s", "time", "fps"))}
    if isinstance(v, list):
        return [clean(x) for x in v]
    if isinstance(v, str):
        return v.replace(sys.argv[2], "SIDE")
    return v
print(json.dumps(clean(json.load(open(sys.argv[1]))), sort_keys=True, indent=1))
PY
}
status=0
for f in "$work"/base/models/*.safetensors; do
  n=$(basename "$f")
  if cmp -s "$f" "$work/new/models/$n"; then echo "same: models/$n"
  else echo "DIFFERENT: models/$n"; status=1; fi
done
for f in "$work"/base/*.json; do
  n=$(basename "$f")
  if diff <(strip "$f" "$work/base") <(strip "$work/new/$n" "$work/new") >"$work/$n.diff"; then
    echo "same: $n"
  else echo "DIFFERENT: $n (diff in $work/$n.diff)"; status=1; fi
done
echo "outputs in $work"
exit $status
