# Lesson 04's recipe for tools/lessons.sh (`make lessons LESSON=04`): the commands whose
# JSON fills lessons/04-rcnn-spp-fast-rcnn.md's tables (templates: 04.md). step NAME
# SECONDS ...: SECONDS is the step's wall time on the 2-core laptop the lesson was
# measured on, idle (with other jobs on its cores, up to twice as long). The data are
# `make generated`'s multi-object scenes; the first detector
# to train computes the Selective Search proposals of the 2,200 scenes into the proposal
# cache (data/cache/proposals), which the others then read. The detectors start from
# lesson 00's model and the timing chart includes lesson 03's sliding windows (each
# trained here if missing).
LESSON_FILE=lessons/04-rcnn-spp-fast-rcnn.md

recipe() {
  local m=$MODELS t=(--threads "$THREADS") data=data/generated/scenes n_train=2000 n_test=200
  local cache=(--cache-dir data/cache/proposals) q=() q0=() lim=() qsw=()
  if quick; then
    data=$dir/quick-data n_train=40 n_test=10 cache=(--cache-dir "$dir/cache")
    q=(--limit 20) q0=(--limit 2000 --epochs 1) lim=(--limit 10) qsw=(--limit 20 --epochs 1)
  fi
  local init=(--data "$data" --pretrained "$m/classify.safetensors" "${cache[@]}" "${q[@]}" "${t[@]}")
  local svm=()   # R-CNN's and SPP-net's fine-tuning steps and mining rounds
  quick && svm=(--steps-per-epoch 20 --svm-rounds 1)
  scenes_steps "$data" "$n_train" "$n_test"
  backbone_step "${q0[@]}"
  step sliding_window 120 --model "$m/sliding_window.safetensors" \
    bin/sliding_window train --data "$data" --pretrained "$m/classify.safetensors" "${qsw[@]}" \
    --model "$m/sliding_window.safetensors" "${t[@]}" --quiet --json
  step rcnn 300 --model "$m/rcnn.safetensors" \
    bin/rcnn train "${init[@]}" "${svm[@]}" --model "$m/rcnn.safetensors" --quiet --json
  step spp_net 90 --model "$m/spp_net.safetensors" \
    bin/spp_net train "${init[@]}" "${svm[@]}" --model "$m/spp_net.safetensors" --quiet --json
  step fast_rcnn 310 --model "$m/fast_rcnn.safetensors" \
    bin/fast_rcnn train "${init[@]}" --model "$m/fast_rcnn.safetensors" --quiet --json
  step spp_net_5scales 130 --model "$m/spp_net_5scales.safetensors" \
    bin/spp_net train "${init[@]}" "${svm[@]}" --scales 0.7,0.84,1,1.26,1.74 --model "$m/spp_net_5scales.safetensors" \
    --quiet --json
  step rcnn_bench 3 bin/rcnn bench --data "$data" --model "$m/rcnn.safetensors" --limit 20 "${t[@]}" --json
  step spp_net_eval 5 bin/spp_net eval --data "$data" --model "$m/spp_net.safetensors" "${cache[@]}" \
    "${lim[@]}" "${t[@]}" --json
  step spp_net_5scales_eval 12 bin/spp_net eval --data "$data" --model "$m/spp_net_5scales.safetensors" \
    "${cache[@]}" "${lim[@]}" "${t[@]}" --json
  step spp_net_bench 2 bin/spp_net bench --data "$data" --model "$m/spp_net.safetensors" --limit 5 "${t[@]}" --json
  step spp_net_5scales_bench 2 bin/spp_net bench --data "$data" --model "$m/spp_net_5scales.safetensors" \
    --limit 5 "${t[@]}" --json
  step fast_rcnn_eval 10 bin/fast_rcnn eval --data "$data" --model "$m/fast_rcnn.safetensors" --svd 64 \
    "${cache[@]}" "${lim[@]}" "${t[@]}" --json
  step log_fast_rcnn 0 cp "$m/fast_rcnn.csv" "$dir/fast_rcnn.csv"
  step compare 60 bin/compare --methods rcnn,spp_net,fast_rcnn,sliding_window --data "$data" \
    --models "$m" --out "$dir/compare" "${lim[@]}" "${t[@]}" --json
  local run  # three timing runs: on a shared laptop one run's order of close times proves little
  for run in 1 2 3; do
    step "bench$run" 10 bin/compare --bench --methods rcnn,spp_net,fast_rcnn --data "$data" \
      --models "$m" --out "$dir/bench$run" --limit "$(quick && echo 5 || echo 50)" "${t[@]}" --json
  done
}

pictures() {
  cp "$dir/compare/compare.svg" lessons/img/compare_bars.svg
  cp "$dir/compare/compare_speed_accuracy.svg" lessons/img/compare_speed_accuracy.svg
}
