#!/usr/bin/env bash
# Fetches detlab's real sample data from Debian's archive, using only apt-get/dpkg.
#  - installs dataset-fashion-mnist (files under /usr/share/datasets/fashion-mnist/);
#  - extracts, WITHOUT installing, a few photos from python3-skimage and darknet and the
#    labelme instance-segmentation example (3 PASCAL VOC photos + COCO annotations.json
#    + SegmentationObjectPNG/SegmentationClassPNG) and matplotlib's grace_hopper.jpg
#    into data/samples/.
# With --pretrained (`make pretrained`) it fetches instead the trained face networks of
# the npm package @vladmandic/face-api (MIT): `npm pack` with the ordinary npm client
# (Debian's npm, installed with apt-get if missing), keeping only the three networks'
# weight manifests + .bin shards and the licence in data/pretrained/face-api/.
# Idempotent: whatever is already present is skipped. Non-interactive.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="$ROOT/data/samples"
export DEBIAN_FRONTEND=noninteractive
MODE=samples
case "${1:-}" in
  "") ;;
  --pretrained) MODE=pretrained ;;
  *) echo "usage: tools/fetch-data.sh [--pretrained]" >&2; exit 2 ;;
esac

SUDO=()
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO=(sudo -n); fi

# Package lists may be missing or stale on a fresh machine: on failure, update once
# and try again.
UPDATED=0
apt_retry() {
  if "$@"; then return 0; fi
  if [ "$UPDATED" -eq 0 ]; then
    UPDATED=1
    echo "fetch-data: apt-get update, then retrying"
    "${SUDO[@]}" apt-get update -q >/dev/null
    "$@"
  else
    return 1
  fi
}

TMP="$(mktemp -d)"
chmod 755 "$TMP"
trap 'rm -rf "$TMP"' EXIT

# ---- face-api's trained networks (--pretrained) ---------------------------------------
# The package pins the version; the registry is whatever npm is configured with.
FACEAPI_VERSION=1.7.15
FACEAPI_NETS=(tiny_face_detector_model ssd_mobilenetv1_model face_landmark_68_model)
if [ "$MODE" = pretrained ]; then
  DEST="$ROOT/data/pretrained/face-api"
  missing=0
  for net in "${FACEAPI_NETS[@]}"; do
    [ -s "$DEST/$net-weights_manifest.json" ] && [ -s "$DEST/$net.bin" ] || missing=1
  done
  [ -s "$DEST/LICENSE" ] || missing=1
  if [ "$missing" -eq 0 ]; then
    echo "fetch-data: face-api $FACEAPI_VERSION networks already in data/pretrained/face-api"
    exit 0
  fi
  if ! command -v npm >/dev/null 2>&1; then
    echo "fetch-data: installing npm"
    apt_retry "${SUDO[@]}" apt-get install -y -q npm
  fi
  echo "fetch-data: npm pack @vladmandic/face-api@$FACEAPI_VERSION"
  (cd "$TMP" && npm pack --silent "@vladmandic/face-api@$FACEAPI_VERSION" >/dev/null)
  mkdir -p "$TMP/pkg" "$DEST"
  members=(package/LICENSE package/package.json)
  for net in "${FACEAPI_NETS[@]}"; do
    members+=("package/model/$net-weights_manifest.json" "package/model/$net.bin")
  done
  tar -xzf "$TMP"/vladmandic-face-api-"$FACEAPI_VERSION".tgz -C "$TMP/pkg" "${members[@]}"
  for m in "${members[@]}"; do
    src="$TMP/pkg/$m" dst="$DEST/$(basename "$m")"
    cp "$src" "$dst.tmp.$$" && mv "$dst.tmp.$$" "$dst"
  done
  echo "fetch-data: data/pretrained/face-api holds $(du -sh "$DEST" | cut -f1)"
  exit 0
fi

# ---- Fashion-MNIST: a real install (other programs read it from /usr/share) --------
if ! dpkg -s dataset-fashion-mnist >/dev/null 2>&1; then
  echo "fetch-data: installing dataset-fashion-mnist"
  apt_retry "${SUDO[@]}" apt-get install -y -q dataset-fashion-mnist
else
  echo "fetch-data: dataset-fashion-mnist already installed"
fi

# extract PKG DEST_DIR "SRC_IN_DEB:DEST_NAME"...
# Downloads PKG's .deb only if one of the destination files is missing, unpacks it
# into a scratch tree and copies the listed files (paths relative to the .deb root).
extract() {
  local pkg="$1" dest="$2"; shift 2
  local missing=0 pair
  for pair in "$@"; do
    [ -s "$dest/${pair#*:}" ] || missing=1
  done
  if [ "$missing" -eq 0 ]; then
    echo "fetch-data: $pkg files already in ${dest#"$ROOT"/}"
    return
  fi
  echo "fetch-data: extracting from $pkg into ${dest#"$ROOT"/}"
  mkdir -p "$TMP/$pkg" "$dest"
  # As root, apt downloads as its sandbox user _apt, which must own the directory.
  if [ "$(id -u)" -eq 0 ] && id _apt >/dev/null 2>&1; then chown _apt "$TMP/$pkg"; fi
  (cd "$TMP/$pkg" && apt_retry apt-get download -q "$pkg" >/dev/null)
  dpkg-deb -x "$TMP/$pkg"/*.deb "$TMP/$pkg/root"
  for pair in "$@"; do
    local src="$TMP/$pkg/root/${pair%%:*}" dst="$dest/${pair#*:}"
    mkdir -p "$(dirname "$dst")"
    cp "$src" "$dst.tmp.$$" && mv "$dst.tmp.$$" "$dst"
  done
}

SK=usr/lib/python3/dist-packages/skimage/data
extract python3-skimage "$OUT/skimage" \
  "$SK/astronaut.png:astronaut.png" "$SK/chelsea.png:chelsea.png" "$SK/coffee.png:coffee.png" \
  "$SK/brick.png:brick.png" "$SK/grass.png:grass.png" "$SK/gravel.png:gravel.png" \
  "usr/share/doc/python3-skimage/copyright:COPYRIGHT.debian"

DN=usr/share/darknet/data
extract darknet "$OUT/darknet" \
  "$DN/dog.jpg:dog.jpg" "$DN/person.jpg:person.jpg" "$DN/horses.jpg:horses.jpg" \
  "usr/share/doc/darknet/copyright:COPYRIGHT.debian"

LM=usr/share/doc/labelme-examples/examples/instance_segmentation
files=()
for id in 2011_000003 2011_000006 2011_000025; do
  files+=("$LM/data_dataset_coco/JPEGImages/$id.jpg:JPEGImages/$id.jpg"
          "$LM/data_dataset_voc/SegmentationObjectPNG/$id.png:SegmentationObjectPNG/$id.png"
          "$LM/data_dataset_voc/SegmentationClassPNG/$id.png:SegmentationClassPNG/$id.png")
done
extract labelme-examples "$OUT/labelme" "${files[@]}" \
  "$LM/data_dataset_coco/annotations.json:annotations.json" \
  "$LM/data_dataset_voc/class_names.txt:class_names.txt" \
  "usr/share/doc/labelme-examples/copyright:COPYRIGHT.debian"

extract python-matplotlib-data "$OUT/matplotlib" \
  "usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg:grace_hopper.jpg" \
  "usr/share/doc/python-matplotlib-data/copyright:COPYRIGHT.debian"

echo "fetch-data: data/samples holds $(du -sh "$OUT" | cut -f1)"
