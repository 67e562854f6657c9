#!/usr/bin/env bash
# `make demo`: a tour of the lecture's chain in about three minutes on 2 cores -- a quick
# classifier, Selective Search on a photo, a quick YOLO on generated scenes, the detectors'
# test times side by side -- ending in one page, out/demo/index.html, that links what each
# step made and names the lesson that explains it. The full-size runs are the lessons' own
# commands (lessons/README.md); nothing here replaces a model the lessons train.
#   tools/demo.sh [OUT_DIR]     (default out/demo)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-out/demo}
quick=data/models/classify_quick.safetensors   # lesson 00's --quick model (its own name)
mkdir -p "$out"
t0=$(date +%s)
step() { printf '\n== step %s of 5 (%ds so far): %s\n' "$1" $(($(date +%s) - t0)) "$2"; }
echo "detlab demo: 5 steps, about 3 minutes on 2 cores; pictures and pages go to $out/"

step 1 "a quick Fashion-MNIST classifier (lesson 00; ~5 s)"
test -f "$quick" || bin/classify train --quick --model "$quick"
bin/classify eval --model "$quick" --report "$out/classify/eval.html" >/dev/null
bin/classify predict --model "$quick" --test 8 --out "$out/classify" \
  --report "$out/classify/predict.html" \
  data/samples/skimage/coffee.png data/samples/darknet/person.jpg >/dev/null

step 2 "Selective Search region proposals on a photo (lesson 03; ~2 s)"
bin/selective_search predict --out "$out/selective_search" \
  --report "$out/selective_search/predict.html" data/samples/darknet/dog.jpg >/dev/null

step 3 "a quick YOLO on 600 generated scenes, from the quick classifier's backbone (lesson 06; ~30 s)"
scenes="$out/scenes"
test -f "$scenes/train/annotations.json" ||
  bin/datagen scenes --quiet --count 600 --split train --seed 1 --out "$scenes/train"
test -f "$scenes/test/annotations.json" ||
  bin/datagen scenes --quiet --count 40 --split test --seed 2 --out "$scenes/test"
yolo="$out/models/yolo_demo.safetensors"
test -f "$yolo" || bin/yolo train --quiet --pretrained "$quick" --epochs 8 --val-images 20 \
  --data "$scenes" --model "$yolo"
bin/yolo eval --model "$yolo" --data "$scenes" --report "$out/yolo/eval.html" >/dev/null
bin/yolo predict --model "$yolo" --gt --out "$out/yolo" --report "$out/yolo/predict.html" \
  "$scenes/test/images/000001.png" "$scenes/test/images/000002.png" >/dev/null

step 4 "test time per scene of the lecture's detectors, R-CNN to SSD (lessons 04-06; ~5 s)"
# The demo's YOLO is timed with its weights; the others (not trained here) with random
# ones -- the networks cost the same, only their detection step's time differs.
bin/compare --bench --methods rcnn,spp_net,fast_rcnn,faster_rcnn,yolo:yolo_demo,ssd --limit 5 \
  --models "$out/models" --data "$scenes" --out "$out/compare" --report "$out/compare/index.html"

step 5 "the page that links it all"
page="$out/index.html"
lessons=$(realpath --relative-to="$out" lessons)   # links that work from the page's folder
cat >"$page.tmp" <<EOF
<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>detlab demo</title>
<style>body{font-family:sans-serif;max-width:52em;margin:2em auto;line-height:1.5}
td,th{padding:.3em .8em;text-align:left;border-bottom:1px solid #ddd}</style></head><body>
<h1>detlab demo</h1>
<p>What <code>make demo</code> made on $(date -u +%Y-%m-%d) in $(($(date +%s) - t0)) s, step by
step, and the lesson that explains each. Every command it ran is in
<code>tools/demo.sh</code>.</p>
<table><tr><th>step</th><th>pages</th><th>read</th></tr>
<tr><td>1. a quick classifier on Fashion-MNIST</td>
<td><a href="classify/eval.html">evaluation</a>, <a href="classify/predict.html">predictions</a></td>
<td><a href="$lessons/00-classify.md">lessons/00-classify.md</a></td></tr>
<tr><td>2. Selective Search proposals on a photo</td>
<td><a href="selective_search/predict.html">proposals</a></td>
<td><a href="$lessons/03-sliding-window-and-proposals.md">lessons/03-sliding-window-and-proposals.md</a></td></tr>
<tr><td>3. a quick YOLO on generated scenes</td>
<td><a href="yolo/eval.html">evaluation</a>, <a href="yolo/predict.html">predictions with the ground truth</a></td>
<td><a href="$lessons/06-yolo-ssd.md">lessons/06-yolo-ssd.md</a></td></tr>
<tr><td>4. the detectors' test time, side by side</td>
<td><a href="compare/index.html">comparison</a></td>
<td><a href="$lessons/04-rcnn-spp-fast-rcnn.md">lessons/04-rcnn-spp-fast-rcnn.md</a>, <a href="$lessons/05-faster-rcnn.md">lessons/05-faster-rcnn.md</a></td></tr>
</table>
<p>Next: <a href="$lessons/00-getting-started.md">lessons/00-getting-started.md</a>, then <code>make help</code> for every program, its
lesson and the command to try first.</p>
</body></html>
EOF
mv "$page.tmp" "$page"
printf '\ndemo done in %ds: open %s\n' $(($(date +%s) - t0)) "$page"
echo "next: <a href="$lessons/00-getting-started.md">lessons/00-getting-started.md</a>; make help lists every program and its lesson"
