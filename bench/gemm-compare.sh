#!/usr/bin/env bash
# The GEMM table of issue 19 in one run: ours (packed and x·W), OpenBLAS and libtorch's MKL (torch.mm through TorchSharp),
# alternating the two processes round by round, each at 1 and 2 threads; the best of the rounds per cell, as GFLOP/s.
# usage: bash bench/gemm-compare.sh [rounds, default 2]     (needs ../shared beside the repository; never run by CI)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-2}"
dotnet build -c Release --nologo -v q bench/Peft.Benchmarks >/dev/null
dotnet build -c Release --nologo -v q bench/Peft.Torch.Gemm >/dev/null
out="$(mktemp -d)"
for r in $(seq 1 "$rounds"); do
  dotnet bench/Peft.Benchmarks/bin/Release/net10.0/Peft.Benchmarks.dll quick 0 big 1,2 > "$out/ours.$r"
  dotnet bench/Peft.Torch.Gemm/bin/Release/net10.0/Peft.Torch.Gemm.dll 1,2 > "$out/mkl.$r"
done
grep -m1 '^CPU:' "$out/ours.1"
grep -m1 '^Caches:' "$out/ours.1"
grep -m1 '^OpenBLAS core' "$out/ours.1"
# Lines (awk fields: "M=" and the number apart): "--- threads T: peak P GFLOP/s" and
# "M= m K= k N= n  x·W a  x·Wᵀ b  packed c   OpenBLAS x·W d  x·Wᵀ e" (ours),
# "--- threads T (...)" and "M= m K= k N= n  torch.mm x·W f  x·Wᵀ g" (libtorch).
awk '
  FNR == 1 { mkl = FILENAME ~ /mkl\./ }
  /^--- threads/ { t = $3 + 0; if (!mkl) { peak[t] = ($5 > peak[t] ? $5 : peak[t]) } ; next }
  /^M=/ {
    key = t " " $2 " " $4 " " $6
    if (!(key in order)) { order[key] = ++n; keys[n] = key }
    if (mkl) { v = ($9 > $11 ? $9 : $11); if (v > best_mkl[key]) best_mkl[key] = v }
    else {
      if ($12 > packed[key]) packed[key] = $12
      if ($8 > xw[key]) xw[key] = $8
      v = ($15 > $17 ? $15 : $17); if (v > best_blas[key]) best_blas[key] = v
    }
  }
  END {
    print "| threads | M K N | Peft packed | Peft x·W | OpenBLAS best | MKL (libtorch) best | peak | packed / peak | x·W / peak | packed / OpenBLAS | packed / MKL |"
    print "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    for (i = 1; i <= n; i++) {
      split(keys[i], f, " "); k = keys[i]
      printf "| %d | %s %s %s | %.1f | %.1f | %.1f | %.1f | %.0f | %.2f | %.2f | %.2f | %.2f |\n", f[1], f[2], f[3], f[4], packed[k], xw[k], best_blas[k], best_mkl[k], peak[f[1]], packed[k] / peak[f[1]], xw[k] / peak[f[1]], packed[k] / best_blas[k], packed[k] / best_mkl[k]
    }
  }' "$out"/ours.* "$out"/mkl.*
rm -rf "$out"
