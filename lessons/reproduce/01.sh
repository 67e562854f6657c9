# Lesson 01's recipe for tools/lessons.sh (`make lessons LESSON=01`): the commands whose
# JSON fills lessons/01-classify-localize.md's tables (templates: 01.md). step NAME
# SECONDS ...: SECONDS is the step's wall time on the 2-core laptop the lesson was
# measured on. The data are `make generated`'s single-object scenes.
LESSON_FILE=lessons/01-classify-localize.md

recipe() {
  local m=$MODELS t=(--threads "$THREADS") data=data/generated/single n_train=12000 n_test=2000 q=() q0=()
  if quick; then data=$dir/quick-data n_train=300 n_test=100 q=(--limit 96) q0=(--limit 2000 --epochs 1); fi
  local single=(bin/datagen scenes --quiet --single --min-scale 40 --max-scale 112)
  step data_train 140 --made "$data/train/annotations.json" \
    "${single[@]}" --count "$n_train" --split train --seed 1 --out "$data/train"
  step data_test 30 --made "$data/test/annotations.json" \
    "${single[@]}" --count "$n_test" --split test --seed 2 --out "$data/test"
  backbone_step "${q0[@]}"
  step train 255 --model "$m/classify_localize.safetensors" \
    bin/classify_localize train --data "$data" --pretrained "$m/classify.safetensors" "${q[@]}" \
    --model "$m/classify_localize.safetensors" "${t[@]}" --quiet --json
  step train_scratch 235 --model "$m/classify_localize_scratch.safetensors" \
    bin/classify_localize train --data "$data" --scratch "${q[@]}" \
    --model "$m/classify_localize_scratch.safetensors" "${t[@]}" --quiet --json
  step log 0 cp "$m/classify_localize.csv" "$dir/train.csv"
  step log_scratch 0 cp "$m/classify_localize_scratch.csv" "$dir/train_scratch.csv"
  step eval 5 bin/classify_localize eval --data "$data" --model "$m/classify_localize.safetensors" \
    "${t[@]}" --json
  step eval_scratch 5 bin/classify_localize eval --data "$data" \
    --model "$m/classify_localize_scratch.safetensors" "${t[@]}" --json
  step predict 3 bin/classify_localize predict --model "$m/classify_localize.safetensors" \
    --out "$dir/predict" "${t[@]}" --json "$data"/test/images/00000{1..8}.png data/samples/skimage/chelsea.png
  step bench 10 bin/classify_localize bench --model "$m/classify_localize.safetensors" "${t[@]}" --json
}

pictures() {
  cp "$MODELS/classify_localize.svg" lessons/img/classify_localize_pretrained.svg
  cp "$MODELS/classify_localize_scratch.svg" lessons/img/classify_localize_scratch.svg
  cp "$dir/predict/chelsea.classify_localize.png" lessons/img/classify_localize_chelsea.png
}
