#!/usr/bin/env bash
# The CLI's first token (issue 16): publishes `peft` three ways and times fresh `peft generate` processes of each,
# alternating, with tiered compilation off (as built) and on:
#   bench/cli-startup/run.sh [ROUNDS]      (default 5; about a minute per round on 2 cores)
#   jit      framework-dependent IL, compiled at first call (what `dotnet run --project src/Peft.Cli` runs)
#   r2r      ReadyToRun (crossgen2 for the default x64 instruction sets: methods that test for AVX-512 are left to the JIT)
#   r2r-v4   ReadyToRun for x86-64-v4 (AVX-512 code precompiled; the runtime rejects it on a CPU without AVX-512 and JITs)
# Publish output goes to $CLI_STARTUP_OUT (default ~/peft-cli-startup); the table prints to stdout.
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-5}
out=${CLI_STARTUP_OUT:-$HOME/peft-cli-startup}
publish() { dotnet publish src/Peft.Cli -c Release -f net10.0 -v quiet -nologo -o "$out/$1" "${@:2}" >/dev/null; }
publish jit
publish r2r -r linux-x64 --self-contained false -p:PublishReadyToRun=true
publish r2r-v4 -r linux-x64 --self-contained false -p:PublishReadyToRun=true -p:PublishReadyToRunCrossgen2ExtraArgs=--instruction-set:x86-64-v4
dotnet run -c Release --project bench/Peft.Benchmarks -- cli-startup "$rounds" jit="$out/jit" r2r="$out/r2r" r2r-v4="$out/r2r-v4"
