#!/usr/bin/env bash
# Every source file the lessons, README.md and DESIGN.md cite (src/..., src/x.{h,cpp})
# exists, so a student following a lesson never opens a file that has moved. Prints each
# missing citation with the document that makes it; exit 1 when there is one.
set -euo pipefail
cd "$(dirname "$0")/../.."
bad=0
for doc in lessons/*.md README.md DESIGN.md; do
  while read -r f; do
    case "$f" in
      *'.{h,cpp}') [ -f "${f%.\{h,cpp\}}.h" ] && [ -f "${f%.\{h,cpp\}}.cpp" ] && continue ;;
      *) [ -e "$f" ] && continue ;;
    esac
    echo "$doc: cites $f, which does not exist"
    bad=1
  done < <(grep -ohE 'src/[A-Za-z0-9_/]+(\.\{h,cpp\}|\.cpp|\.h)' "$doc" | sort -u)
done
exit $bad
