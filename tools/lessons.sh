#!/usr/bin/env bash
# `make lessons [LESSON=02]`: reproduces lessons 00-04 -- each lesson's data, its models
# trained with the documented defaults, its eval/predict/bench commands -- and rewrites
# the lesson's generated regions (<!-- lessons: NN/x --> ... <!-- /lessons -->) from the
# JSON they printed (bin/lesson_blocks), so every number in a results table is the output
# of this one command. A lesson's recipe is lessons/reproduce/NN.sh (its commands, each
# with this machine's time) and lessons/reproduce/NN.md (which JSON field goes in which
# cell). Outputs go to out/lessons/NN/: per step NAME.json (stdout, for --json commands),
# NAME.log (stderr) and NAME.time.json (wall time and peak RSS from /usr/bin/time).
#   tools/lessons.sh [NN ...]          (default: 00 01 02 03 04)
# Environment:
#   MODELS=DIR  where models go (default data/models, as the lessons say)
#   FORCE=1     retrain models that are present (default: a present model is kept, and
#               its training figures are those its earlier run recorded in out/lessons/)
#   QUICK=1     tiny settings to check a recipe end to end in minutes: outputs go to
#               out/lessons/quick/NN/, models to out/lessons/quick/models/, and the lesson
#               to out/lessons/quick/NN/lesson.md, never over lessons/ (its numbers mean
#               nothing)
#   THREADS=N   --threads of every program (default 2)
set -euo pipefail
cd "$(dirname "$0")/.."
FORCE=${FORCE:-0}
QUICK=${QUICK:-0}
THREADS=${THREADS:-2}
if [ "$QUICK" = 1 ]; then OUT=${OUT:-out/lessons/quick} MODELS=${MODELS:-$OUT/models}
else OUT=${OUT:-out/lessons} MODELS=${MODELS:-data/models}; fi
COMMAND=${LESSONS_COMMAND:-tools/lessons.sh${*:+ $*}}   # named in each lesson's dated line
export OMP_WAIT_POLICY=passive   # idle OpenMP threads sleep: a lesson's timings are its own
lessons=("$@")
[ ${#lessons[@]} -gt 0 ] || lessons=(00 01 02 03 04)
for n in "${lessons[@]}"; do
  [ -f "lessons/reproduce/$n.sh" ] || { echo "error: lessons/reproduce/$n.sh: no such recipe" >&2; exit 2; }
done
[ -x /usr/bin/time ] || { echo "error: /usr/bin/time: not installed (Debian package time)" >&2; exit 1; }
mkdir -p "$MODELS"

quick() { [ "$QUICK" = 1 ]; }
mmss() { printf '%d min %02d s' $(($1 / 60)) $(($1 % 60)); }
# The wall time a step took when last run here, else the recipe's figure for this machine.
estimate() {
  local t="$dir/$1.time.json"
  if [ -f "$t" ]; then sed -n 's/.*"wall_s": *\([0-9]*\).*/\1/p' "$t"; else echo "$2"; fi
}
# Why a step will not run ("" when it will): its output (--made FILE) is there, or its
# model (--model FILE) is there and FORCE is not set.
skip_reason() {
  case "$1" in
    --made) [ -e "$2" ] && echo "present: $2" || true ;;
    --model) [ "$FORCE" != 1 ] && [ -e "$2" ] && echo "model present (FORCE=1 retrains)" || true ;;
  esac
}

# The recipe's one verb, read twice: `plan` lists the steps and their estimates, `run`
# runs them. step NAME SECONDS [--made FILE | --model FILE] COMMAND...
step() {
  local name=$1 secs=$2 reason="" kind="" file=""
  shift 2
  case "$1" in --made | --model) kind=$1 file=$2; reason=$(skip_reason "$1" "$2"); shift 2 ;; esac
  local est
  est=$(estimate "$name" "$secs")
  if [ "$mode" = plan ]; then
    if [ -z "$reason" ] && [ "$kind" = --model ] && [ "${planned_models/ $file /}" != "$planned_models" ]; then
      reason="trained above"
    fi
    if [ -n "$reason" ]; then printf '    %-22s  skipped (%s)\n' "$name" "$reason"
    else printf '    %-22s  ~%5s s  %s\n' "$name" "$est" "$*"; planned=$((planned + est)); fi
    [ "$kind" != --model ] || planned_models+=" $file "
    return 0
  fi
  index=$((index + 1))
  if [ -n "$reason" ]; then
    printf '[%s %d/%d] %s: skipped (%s)\n' "$lesson" "$index" "$count" "$name" "$reason"
    # A model an earlier lesson of this run trained counts as trained by this run.
    if [ "$kind" = --model ] && [ "${trained_now/ $file /}" = "$trained_now" ]; then
      kept+=("$(basename "$file" .safetensors)")
    fi
    return 0
  fi
  printf '[%s %d/%d, %s so far] %s (~%s s): %s\n' "$lesson" "$index" "$count" \
    "$(mmss $(($(date +%s) - t_all)))" "$name" "$est" "$*"
  local stdout="$dir/$name.log"
  case " $* " in *" --json "*) stdout="$dir/$name.json" ;; esac
  local t0=$(date +%s)
  if ! /usr/bin/time -f '{"wall_s": %e, "user_s": %U, "peak_rss_kb": %M}' -o "$dir/$name.time.json" \
      "$@" >"$stdout.tmp" 2>"$dir/$name.log"; then
    echo "error: step $name of lesson $lesson failed; the end of $dir/$name.log:" >&2
    tail -5 "$dir/$name.log" >&2
    exit 1
  fi
  mv "$stdout.tmp" "$stdout"
  [ "$kind" != --model ] || trained_now+=" $file "
  echo "    done in $(($(date +%s) - t0)) s"
}

# Steps several recipes share. lesson 00's backbone, which the later lessons start from
# (arguments: the recipe's quick settings, if any):
backbone_step() {
  step classify 110 --model "$MODELS/classify.safetensors" \
    bin/classify train "$@" --model "$MODELS/classify.safetensors" --threads "$THREADS" --quiet --json
}
# ... and the multi-object scenes (DIR, train and test counts), made only when missing.
scenes_steps() {
  step data_train 30 --made "$1/train/annotations.json" \
    bin/datagen scenes --quiet --count "$2" --split train --seed 1 --out "$1/train"
  step data_test 3 --made "$1/test/annotations.json" \
    bin/datagen scenes --quiet --count "$3" --split test --seed 2 --out "$1/test"
}

json_string() { local v=${1//\\/\\\\}; echo "${v//\"/\\\"}"; }   # \ and " escaped

machine() {
  local cpu isa=""
  cpu=$(sed -n 's/^model name[^:]*: *//p' /proc/cpuinfo | head -1)
  grep -qw avx2 /proc/cpuinfo && isa=", AVX2"
  grep -qw avx512f /proc/cpuinfo && isa=", AVX-512"
  echo "$cpu, $(nproc) cores$isa"
}

# ---- the plan: every lesson's steps and estimates, before anything runs ----------------
t_all=$(date +%s)
mode=plan
total_planned=0
planned_models=" "
echo "make lessons: ${lessons[*]}; models in $MODELS$([ "$QUICK" = 1 ] && echo ', QUICK (tiny settings, lessons/ untouched)')"
for lesson in "${lessons[@]}"; do
  dir="$OUT/$lesson"
  planned=0
  LESSON_FILE=""
  pictures() { :; }
  # shellcheck source=/dev/null
  source "lessons/reproduce/$lesson.sh"
  echo "  lesson $lesson ($LESSON_FILE):"
  recipe
  echo "    about $(mmss "$planned")"
  total_planned=$((total_planned + planned))
done
echo "  all: about $(mmss "$total_planned") on $(machine)"

# ---- the run ------------------------------------------------------------------------
mode=run
trained_now=" "
for lesson in "${lessons[@]}"; do
  dir="$OUT/$lesson"
  mkdir -p "$dir"
  pictures() { :; }
  # shellcheck source=/dev/null
  source "lessons/reproduce/$lesson.sh"
  count=$(n=0; step() { n=$((n + 1)); }; recipe; echo $n)
  index=0
  kept=()
  t_lesson=$(date +%s)
  recipe
  trained="trained by this run"
  if [ ${#kept[@]} -gt 0 ]; then
    trained="trained by this run except $(IFS=,; echo "${kept[*]}" | sed 's/,/, /g') (kept: its figures are from the run that trained it)"
  fi
  cat >"$dir/run.json" <<EOF
{"date": "$(date -u +%Y-%m-%d)", "machine": "$(json_string "$(machine)")", "command": "$(json_string "$COMMAND")",
 "threads": $THREADS, "models": "$trained", "seconds": $(($(date +%s) - t_lesson)),
 "duration": "$(mmss $(($(date +%s) - t_lesson)))", "load": "$(cut -d' ' -f2 /proc/loadavg)"}
EOF
  target=$LESSON_FILE
  quick && target="$dir/lesson.md"
  if ! bin/lesson_blocks "$LESSON_FILE" --templates "lessons/reproduce/$lesson.md" --json-dir "$dir" \
      --out "$target"; then
    [ ${#kept[@]} -eq 0 ] ||
      echo "(a kept model's figures come from out/lessons/$lesson/ of the run that trained it; FORCE=1 retrains)" >&2
    exit 1
  fi
  quick || pictures   # the recipe's: copies the lesson's figures into lessons/img/
  echo "[$lesson] rewrote $target in $(mmss $(($(date +%s) - t_lesson)))"
done
echo "make lessons: ${lessons[*]} done in $(mmss $(($(date +%s) - t_all)))"
