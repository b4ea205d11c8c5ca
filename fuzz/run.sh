#!/usr/bin/env bash
# Fuzzes one target with afl++ through SharpFuzz, then keeps the minimized corpus and any crashers in the repository.
#   fuzz/run.sh TARGET [CPU_SECONDS]      (default 1800: the 30 CPU-minutes per target the fuzz table records)
# The budget is CPU time of the whole process tree, not wall time: on a shared machine a wall-clock run gets less.
# Needs: afl++ (Debian: apt-get install afl++) and the SharpFuzz instrumenter
# (dotnet tool install --global SharpFuzz.CommandLine --version 2.3.0). Not run by CI: CI replays the corpora
# (tests/Peft.Fuzz.Tests). Results: $FUZZ_OUT/TARGET (default ~/peft-fuzz: afl-cmin refuses /tmp); a summary line goes to stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: fuzz/run.sh TARGET [CPU_SECONDS]}
budget=${2:-1800}
out=${FUZZ_OUT:-$HOME/peft-fuzz}
mkdir -p "$out"
dotnet=$(command -v dotnet)  # afl-cmin wants the program as a path
bin="$out/bin-$target"
export PATH="$PATH:$HOME/.dotnet/tools"

# The assemblies whose code afl should see: the parser's and what uses its result (instrumenting the tensor kernels
# would only slow every run).
case "$target" in
  safetensors|config) assemblies="Peft.Transformers" ;;
  adapter) assemblies="Peft.Tuners Peft.Transformers" ;;
  tokenizer-json|tokenizer-config|chat-template) assemblies="Peft.Tokenizers" ;;
  jsonl|csv) assemblies="peft" ;;   # Peft.Cli builds as peft.dll
  mlnet-state) assemblies="Peft.MLNet Peft.Tuners" ;;
  *) echo "unknown target $target (see: dotnet run --project fuzz/Peft.Fuzz -- list)" >&2; exit 2 ;;
esac

rm -rf "$bin"
dotnet build fuzz/Peft.Fuzz -c Release -o "$bin" -v quiet -nologo >/dev/null
for assembly in $assemblies; do sharpfuzz "$bin/$assembly.dll" >/dev/null; done

export AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1
rm -rf "$out/$target"
# -t: a .NET start plus a slow input on a loaded 2-core machine; hangs beyond it are findings too.
# CPU seconds of afl-fuzz and every process under it (the harness runs inputs in a child that afl never waits for, so
# rusage misses it): the process tree under afl-fuzz sampled every 2 s, the largest reading of each process summed.
# afl stops on SIGINT once the budget is spent (its wall limit -V is only a backstop: 20x the budget).
cpu_total() { awk '{ if ($2 > best[$1]) best[$1] = $2 } END { for (p in best) total += best[p]; printf "%.0f", total }' "$out/$target.cpu"; }
afl-fuzz -V "$((budget * 20))" -t 10000 -m none -i "fuzz/corpora/$target" -o "$out/$target" -- "$dotnet" "$bin/Peft.Fuzz.dll" "$target" \
  >"$out/$target.log" 2>&1 &
afl=$!
: >"$out/$target.cpu"
while kill -0 "$afl" 2>/dev/null; do
  ps -e -o pid=,ppid=,times= | awk -v root="$afl" '
    { parent[$1] = $2; cpu[$1] = $3 }
    END { for (p in parent) { q = p; while (q != "" && q != root && q != 1 && q != 0) q = parent[q]; if (q == root) print p, cpu[p] } }
  ' >>"$out/$target.cpu" || true
  if [ "$(cpu_total)" -ge "$budget" ]; then kill -INT "$afl" 2>/dev/null || true; break; fi
  sleep 2
done
wait "$afl" || true
cpu=$(cpu_total)

stats="$out/$target/default/fuzzer_stats"
value() { awk -F' *: *' -v k="$1" '$1 == k { print $2 }' "$stats"; }
crashes=$(find "$out/$target/default/crashes" -type f -name 'id:*' 2>/dev/null | wc -l)
hangs=$(find "$out/$target/default/hangs" -type f -name 'id:*' 2>/dev/null | wc -l)

# Keep what afl found: crashers and hangs (to fix, then replayed forever), and the queue minimized to the corpus.
mkdir -p "fuzz/crashers/$target"
for f in "$out/$target"/default/crashes/id:* "$out/$target"/default/hangs/id:*; do
  [ -f "$f" ] && cp "$f" "fuzz/crashers/$target/$(sha1sum "$f" | cut -c1-16)"
done
rmdir "fuzz/crashers/$target" 2>/dev/null || true
min="$out/$target-min"
rm -rf "$min"
AFL_SKIP_BIN_CHECK=1 afl-cmin -t 10000 -m none -i "$out/$target/default/queue" -o "$min" -- "$dotnet" "$bin/Peft.Fuzz.dll" "$target" >/dev/null 2>&1 || true
if [ -d "$min" ] && [ -n "$(ls -A "$min")" ]; then
  # The queue grew from the corpus, so the minimized queue replaces the previous minimized files (seeds stay).
  rm -f "fuzz/corpora/$target"/min-*
  for f in "$min"/*; do cp "$f" "fuzz/corpora/$target/min-$(sha1sum "$f" | cut -c1-16)"; done
fi

echo "| $target | $(value run_time) s | $cpu s | $(value execs_done) | $(value execs_per_sec) | $(value bitmap_cvg) | $(value corpus_count) | $crashes | $hangs |"
