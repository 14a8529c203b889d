#!/usr/bin/env bash
# Debian packages the project uses at install or test time: OpenBLAS (headers + library) for the
# native-blas backend, Chromium for the report's browser test, Slurm and munge for the ablation's
# scheduler test (a one-node cluster it starts itself), ffmpeg for `r3d-data import` of videos.
# Idempotent. Elsewhere (no apt-get, or not root) it prints what to install and exits 0:
# everything still runs, on the wasm backend (and `r3d-data import` reads frame folders).
set -euo pipefail
want=(libopenblas-dev chromium slurm-wlm munge ffmpeg)
if ! command -v apt-get >/dev/null 2>&1 || [ "$(id -u)" != 0 ]; then
  echo "system-deps: not root on Debian/Ubuntu; install yourself for native speed: ${want[*]}" >&2
  echo "  (macOS: brew install openblas; see packages/native-blas/README.md)" >&2
  exit 0
fi
missing=()
for p in "${want[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ "${#missing[@]}" -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
