#!/usr/bin/env bash
# The layering of src/ (DESIGN.md, "Layers"): each folder may include only the folders
# listed for it here -- its own and those below it -- so the library has no cycles and
# nothing below the programs depends on them. Prints every include that breaks the rule
# (file:line and the folder it reaches) and exits 1; silent and 0 when all hold.
set -euo pipefail
cd "$(dirname "$0")/../../src"

declare -A allowed=(
  [util]=""
  [tensor]="util"
  [autograd]="tensor util"
  [nn]="autograd tensor util"
  [image]="tensor util"
  [detection]="autograd image tensor util"
  [data]="detection image tensor util"
  [proposals]="data detection image tensor util"
  [eval]="proposals data detection image tensor util"
  [models]="eval proposals data detection image nn autograd tensor util"
  [grading]="models eval proposals data detection image nn autograd tensor util"
  [lessons]="grading models eval proposals data detection image nn autograd tensor util"
  [tools]="lessons grading models eval proposals data detection image nn autograd tensor util"
)

bad=0
for dir in */; do
  dir=${dir%/}
  if [ -z "${allowed[$dir]+set}" ]; then
    echo "src/$dir: a folder with no place in the layers (add it to $0 and DESIGN.md)"
    bad=1
    continue
  fi
  while IFS=: read -r file line text; do
    target=$(sed -E 's/.*#include "([a-z_]+)\/.*/\1/' <<<"$text")
    [ "$target" = "$dir" ] && continue
    case " ${allowed[$dir]} " in
      *" $target "*) ;;
      *) echo "src/$file:$line: $dir/ may not include $target/"; bad=1 ;;
    esac
  done < <(grep -rnE '^#include "[a-z_]+/' "$dir" || true)
done
exit $bad
