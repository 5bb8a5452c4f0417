#!/usr/bin/env bash
# Re-quantizes the bundled model: models/deeplabv3_mnv3_street_512x256.onnx → .int8.onnx (+ manifest),
# calibrated on 200 frames of a synthetic street seed used neither for training nor for evaluation.
# Run it whenever the float model changes. Extra arguments go to 'edgeseg quantize'.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
dotnet build src/EdgeSeg.Service -c Release -v quiet -nologo -clp:ErrorsOnly
exec dotnet src/EdgeSeg.Service/bin/Release/net10.0/edgeseg.dll quantize \
  --model models/deeplabv3_mnv3_street_512x256.onnx \
  --calibration "synthetic://street?seed=31337&size=1024x512" --frames 200 --percentile 99.999 \
  --out models/deeplabv3_mnv3_street_512x256.int8.onnx "$@"
