#!/usr/bin/env bash
# Rebuilds web/src/meeting/selfie_segmenter.tflite: the person segmentation model that
# @mediapipe/selfie_segmentation ships (selfie_segmentation.tflite, Apache-2.0), with the TFLite
# metadata MediaPipe Tasks' ImageSegmenter requires (the input's normalization: pixels / 255)
# added. The model itself is unchanged. Needs flatc (Debian: flatbuffers-compiler) and the
# two schemas, which are not kept here:
#   TFLITE_SCHEMA    tensorflow/compiler/mlir/lite/schema/schema.fbs (TensorFlow or tflite-micro)
#   METADATA_SCHEMA  tensorflow_lite_support/metadata/metadata_schema.fbs (tflite-support)
# flatc 2.0 cannot read `(deprecated)` on enum values: the script drops those attributes.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$here/../.."
: "${TFLITE_SCHEMA:?path to schema.fbs}" "${METADATA_SCHEMA:?path to metadata_schema.fbs}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$root/web" && npm pack --silent --pack-destination "$work" @mediapipe/selfie_segmentation@0.1.1675465747 >/dev/null)
tar -xzf "$work"/mediapipe-selfie_segmentation-*.tgz -C "$work"
sed 's/ = \([0-9]*\) (deprecated),/ = \1,/; s/^\(  [A-Za-z]*Options\) (deprecated),/\1,/' "$TFLITE_SCHEMA" >"$work/schema.fbs"
flatc --no-warnings -b -o "$work" "$METADATA_SCHEMA" "$here/metadata.json"
flatc --no-warnings --json --strict-json --raw-binary -o "$work" "$work/schema.fbs" -- "$work/package/selfie_segmentation.tflite"
python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
model = json.load(open(f"{work}/selfie_segmentation.json"))
meta = open(f"{work}/metadata.tflitemeta", "rb").read()
model["buffers"].append({"data": list(meta)})
model["metadata"] = [{"name": "TFLITE_METADATA", "buffer": len(model["buffers"]) - 1}]
json.dump(model, open(f"{work}/selfie_segmenter.json", "w"))
PY
flatc --no-warnings -b -o "$work" "$work/schema.fbs" "$work/selfie_segmenter.json"
cp "$work/selfie_segmenter.tflite" "$root/web/src/meeting/selfie_segmenter.tflite"
echo "wrote web/src/meeting/selfie_segmenter.tflite"
