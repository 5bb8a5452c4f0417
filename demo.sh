#!/usr/bin/env bash
# Quick start: installs what is missing, builds, and runs the demo on the bundled default
# (synthetic street video, bundled DeepLabV3, in-process MQTT broker). Extra arguments go to
# 'edgeseg demo', e.g. ./demo.sh --seconds 60
set -euo pipefail
cd "$(dirname "$0")"
scripts/install-deps.sh run
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build src/EdgeSeg.Service -c Release -v quiet -nologo -clp:ErrorsOnly
exec dotnet src/EdgeSeg.Service/bin/Release/net10.0/edgeseg.dll demo "$@"
