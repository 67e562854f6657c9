# Lesson 03's recipe for tools/lessons.sh (`make lessons LESSON=03`): the commands whose
# JSON fills lessons/03-sliding-window-and-proposals.md's tables (templates: 03.md).
# step NAME SECONDS ...: SECONDS is the step's wall time on the 2-core laptop the lesson
# was measured on. The data are `make generated`'s multi-object scenes; the sliding
# window classifier starts from lesson 00's model (trained here if missing).
LESSON_FILE=lessons/03-sliding-window-and-proposals.md

recipe() {
  local m=$MODELS t=(--threads "$THREADS") data=data/generated/scenes n_train=2000 n_test=200 q=() q0=() lim=()
  if quick; then
    data=$dir/quick-data n_train=40 n_test=10 q=(--limit 20) q0=(--limit 2000 --epochs 1) lim=(--limit 10)
  fi
  scenes_steps "$data" "$n_train" "$n_test"
  backbone_step "${q0[@]}"
  step train 120 --model "$m/sliding_window.safetensors" \
    bin/sliding_window train --data "$data" --pretrained "$m/classify.safetensors" "${q[@]}" \
    --model "$m/sliding_window.safetensors" "${t[@]}" --quiet --json
  step eval 20 bin/sliding_window eval --data "$data" --model "$m/sliding_window.safetensors" \
    "${lim[@]}" "${t[@]}" --json
  local first=(--limit "$(quick && echo 3 || echo 20)")   # the two modes on the same first scenes
  step eval_crops20 35 bin/sliding_window eval --data "$data" --model "$m/sliding_window.safetensors" \
    --mode crops "${first[@]}" "${t[@]}" --json
  step eval_conv20 3 bin/sliding_window eval --data "$data" --model "$m/sliding_window.safetensors" \
    "${first[@]}" "${t[@]}" --json
  step bench 15 bin/sliding_window bench --data "$data" --model "$m/sliding_window.safetensors" \
    --limit 5 "${t[@]}" --json
  step bench_stride8 5 bin/sliding_window bench --data "$data" --model "$m/sliding_window.safetensors" \
    --limit 2 --stride 8 "${t[@]}" --json
  step bench_batch1 5 bin/sliding_window bench --data "$data" --model "$m/sliding_window.safetensors" \
    --limit 1 --crop-batch 1 "${t[@]}" --json
  step bench_chelsea 20 bin/sliding_window bench --model "$m/sliding_window.safetensors" "${t[@]}" \
    --json data/samples/skimage/chelsea.png
  step log 0 cp "$m/sliding_window.csv" "$dir/train.csv"
  local ss=(bin/selective_search eval --data "$data/test" "${lim[@]}" "${t[@]}" --json)
  step ss_single 5 "${ss[@]}" --preset single --out "$dir/ss_single"
  step ss_fast 8 "${ss[@]}" --preset fast --out "$dir/ss_fast"
  step ss_quality 20 "${ss[@]}" --preset quality --out "$dir/ss_quality"
}
