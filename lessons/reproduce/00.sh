# Lesson 00's recipe for tools/lessons.sh (`make lessons LESSON=00`): the commands whose
# JSON fills lessons/00-classify.md's tables (templates: 00.md). step NAME SECONDS ...:
# SECONDS is the step's wall time on the 2-core laptop the lesson was measured on.
LESSON_FILE=lessons/00-classify.md

recipe() {
  local m=$MODELS t=(--threads "$THREADS") limit=()
  quick && limit=(--limit 2000)
  step train_quick 15 --model "$m/classify_quick.safetensors" \
    bin/classify train --quick "${limit[@]}" --model "$m/classify_quick.safetensors" "${t[@]}" --quiet --json
  step train 110 --model "$m/classify.safetensors" \
    bin/classify train "${limit[@]}" $(quick && echo --epochs 1) --model "$m/classify.safetensors" "${t[@]}" --quiet --json
  step eval 3 bin/classify eval --model "$m/classify.safetensors" "${t[@]}" --json
  step bench 5 bin/classify bench --model "$m/classify.safetensors" "${t[@]}" --json
  step predict 2 bin/classify predict --model "$m/classify.safetensors" --test 4 --out "$dir/predict" \
    "${t[@]}" --json data/samples/skimage/coffee.png data/samples/skimage/chelsea.png
}

pictures() {
  cp "$MODELS/classify.svg" lessons/img/classify_curves.svg
  local f
  for f in test0000_Ankle-boot coffee chelsea; do
    cp "$dir/predict/$f.classify.png" "lessons/img/classify_${f%%_*}.png"
  done
}
