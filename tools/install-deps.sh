#!/usr/bin/env bash
# Installs with apt-get only the Debian packages detlab's build and tests need
# that are not yet present. Idempotent and non-interactive.
#   tools/install-deps.sh           build + test dependencies
#   tools/install-deps.sh --bench   also OpenBLAS (the GEMM benchmark's reference),
#                                   python3-opencv (OpenCV's selective search, for comparison)
#                                   and python3-torch (the train-step comparison)
#   tools/install-deps.sh --golden  also python3-torch/torchvision (regenerating golden dumps)
#   tools/install-deps.sh --fuzz    also clang with libFuzzer and its OpenMP (make fuzz)
#   tools/install-deps.sh --browser also chromium (test_report opens the HTML reports in it
#                                   headless; skipped with a message without it)
set -euo pipefail

pkgs=(g++ cmake make libstb-dev libcli11-dev libfmt-dev libboost-test-dev
      nlohmann-json3-dev zlib1g-dev time)
for arg in "$@"; do
  case "$arg" in
    --bench)  pkgs+=(libopenblas-dev python3-opencv python3-torch) ;;
    --golden) pkgs+=(python3-torch python3-torchvision python3-numpy) ;;
    --fuzz)   pkgs+=(clang libclang-rt-dev libomp-dev) ;;
    --browser) pkgs+=(chromium) ;;
    *) echo "install-deps.sh: unknown option '$arg' (use --bench, --golden, --fuzz, --browser)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps.sh: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
# A fresh machine has no package lists yet; refresh them once when the install fails.
if ! $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"; then
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
