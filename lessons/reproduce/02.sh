# Lesson 02's recipe for tools/lessons.sh (`make lessons LESSON=02`): the commands whose
# JSON fills lessons/02-deeppose.md's tables (templates: 02.md). step NAME SECONDS ...:
# SECONDS is the step's wall time on the 2-core laptop the lesson was measured on. The
# data are `make generated`'s pose figures.
LESSON_FILE=lessons/02-deeppose.md

recipe() {
  local m=$MODELS t=(--threads "$THREADS") data=data/generated/figures n_train=8000 n_test=1000 q=()
  if quick; then data=$dir/quick-data n_train=200 n_test=50 q=(--limit 200 --epochs 1 --cascade-epochs 1); fi
  step data_train 120 --made "$data/train/annotations.json" \
    bin/datagen figures --quiet --count "$n_train" --seed 1 --out "$data/train"
  step data_test 15 --made "$data/test/annotations.json" \
    bin/datagen figures --quiet --count "$n_test" --seed 2 --out "$data/test"
  step train 240 --model "$m/deeppose.safetensors" \
    bin/deeppose train --data "$data" "${q[@]}" --model "$m/deeppose.safetensors" "${t[@]}" --quiet --json
  step log 0 cp "$m/deeppose.csv" "$dir/train.csv"
  step log_stage2 0 cp "$m/deeppose.stage2.csv" "$dir/train_stage2.csv"
  step eval 10 bin/deeppose eval --data "$data" --model "$m/deeppose.safetensors" "${t[@]}" --json
  step bench 10 bin/deeppose bench --model "$m/deeppose.safetensors" "${t[@]}" --json
}
