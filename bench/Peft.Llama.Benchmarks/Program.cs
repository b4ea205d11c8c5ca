using System.Globalization;
using LLama.Native;
using Peft.Benchmarks.Shared;
using Peft.Llama.Benchmarks;
using Peft.Tensors.Quantization;
using Peft.Tensors.Threading;
using Peft.Transformers.Configuration;
using Peft.Transformers.Loading;

// Ours against llama.cpp (LLamaSharp 0.30) on gpt2-small (issue 15):
//   dotnet run -c Release --project bench/Peft.Llama.Benchmarks -- [folder] [rounds] [filter]
// Checks llama.cpp's f32 GGUF against our float32 model first (greedy ids and first-step logits), then each round runs
// every case ours then llama.cpp (after a warm-up round that compares the ids); the table shows medians over the rounds.
// filter keeps the cases whose name contains it (e.g. "b1", "f16", "int8").
string folder = args.Length > 0 ? args[0] : Path.Combine(Path.GetTempPath(), "peft-llama-gpt2-small");
int rounds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 5;
if (rounds < 1) throw new ArgumentException("rounds must be at least 1");
string filter = args.Length > 2 ? args[2] : "";
const int DecodePrompt = 32, NewTokens = 64, CheckTokens = 16;

// Before any native call: llama.cpp's info lines only when asked for, its warnings and errors always.
bool verbose = Environment.GetEnvironmentVariable("PEFT_LLAMA_LOG") == "1";
NativeLibraryConfig.All.WithLogCallback((level, message) =>
{
    if (verbose || level is LLamaLogLevel.Warning or LLamaLogLevel.Error) Console.Error.Write(message);
});
if (Gpt2SmallFolder.Ensure(folder)) Console.WriteLine($"wrote a random-weight gpt2-small to {folder}");
// llama.cpp's default KV cache is f16; PEFT_LLAMA_KV=f32 keeps it float32 as ours is.
GGMLType? cacheType = Environment.GetEnvironmentVariable("PEFT_LLAMA_KV") == "f32" ? GGMLType.GGML_TYPE_F32 : null;

// Both engines on 2 threads (llama.cpp's are set per context in LlamaGpt2).
WorkerPool.SetMaxDegree(2);
int vocab = ModelConfig.Load(folder).VocabSize;

static int[] Prompt(int batch, int length)
{
    var random = new Random(1000 * batch + length);
    return [.. Enumerable.Range(0, batch * length).Select(_ => random.Next(50257))];
}

// Models are loaded when a kept case first needs them. The folder is F32; the F16/BF16 GGUF files hold the tied head
// rounded to 16 bits (output = token_embd), so ours reads a 16-bit head copy too: the same bytes per token.
var ours = new Dictionary<QuantizationFormat, OursGpt2>();
OursGpt2 Ours(QuantizationFormat format) => ours.TryGetValue(format, out var m) ? m
    : ours[format] = new OursGpt2(ModelLoader.LoadCausal(folder, new LoadOptions
    {
        Quantization = format,
        QuantizeLmHead = format is QuantizationFormat.BFloat16 or QuantizationFormat.Float16 ? true : null,
    }));
var llamas = new Dictionary<GgufType, LlamaGpt2>();
LlamaGpt2 Llama(GgufType type) => llamas.TryGetValue(type, out var m) ? m : llamas[type] = new LlamaGpt2(Gpt2Gguf.Ensure(folder, type), cacheType);

// Correctness: llama.cpp on the f32 GGUF with a float32 KV cache against our float32 model.
using (var check = new LlamaGpt2(Gpt2Gguf.Ensure(folder, GgufType.F32), GGMLType.GGML_TYPE_F32))
{
    foreach (int batch in new[] { 1, 8 })
    {
        int[] p = Prompt(batch, DecodePrompt);
        float[] oursLogits = Ours(QuantizationFormat.None).FirstLogits(p, batch, DecodePrompt);
        var oursIds = Ours(QuantizationFormat.None).Generate(p, batch, DecodePrompt, CheckTokens).Ids;
        var llama = check.Generate(p, batch, DecodePrompt, CheckTokens);
        var logits = Agreement.Logits(oursLogits, llama.FirstLogits, vocab);
        float gap = Enumerable.Range(0, batch).Min(b => Agreement.TopGap(oursLogits.AsSpan(b * vocab, vocab)));
        Console.WriteLine($"check f32 b{batch} ({DecodePrompt}+{CheckTokens}, llama.cpp KV f32): {Agreement.Ids(oursIds, llama.Ids)};" +
            $" first-step logits: {logits.Text}; smallest top-2 gap {gap:G3}");
    }
}

var rows = new (string Label, QuantizationFormat Ours, GgufType Llama)[]
{
    ("f32", QuantizationFormat.None, GgufType.F32),
    ("f16", QuantizationFormat.Float16, GgufType.F16),
    ("bf16", QuantizationFormat.BFloat16, GgufType.BF16),
    ("int8", QuantizationFormat.Int8, GgufType.Q8_0),
};
var cases = new List<BenchCase>();
foreach (var (label, oursFormat, llamaType) in rows)
    foreach (int batch in new[] { 1, 8 })
    {
        int[] p = Prompt(batch, DecodePrompt);
        // Decode rate: the tokens after the first (which the prefill produces) over the time they took.
        double decodeTokens = batch * (NewTokens - 1), promptTokens = batch * DecodePrompt;
        string oursName = oursFormat == QuantizationFormat.None ? "Float32" : oursFormat.ToString();
        cases.Add(new BenchCase($"decode {label} b{batch} ({DecodePrompt}+{NewTokens}): ours {oursName}, llama.cpp {llamaType}",
            () => Ours(oursFormat).Generate(p, batch, DecodePrompt, NewTokens) is var r
                ? new RunResult(decodeTokens / r.DecodeSeconds, promptTokens / r.PrefillSeconds, r.Ids) : null!,
            () => Llama(llamaType).Generate(p, batch, DecodePrompt, NewTokens) is var r
                ? new RunResult(decodeTokens / r.DecodeSeconds, promptTokens / r.PrefillSeconds, r.Ids) : null!));
    }
cases.RemoveAll(c => !c.Name.Contains(filter, StringComparison.Ordinal));

// Warm-up ids by row label and batch, so a quantized row can also be set against each engine's own f32 row.
var warmIds = new Dictionary<string, (int[][] Ours, int[][] Llama)>();

string Load() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
string loadBefore = Load();
Console.WriteLine($"{folder}: LLamaSharp 0.30.0 (its assembly carries no version), {rounds} rounds after a warm-up, 2 threads each" +
    $" (llama.cpp KV cache {(cacheType is null ? "f16, its default" : "f32")}, flash attention its default," +
    $" OMP_WAIT_POLICY {Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") ?? "unset"}); load average {loadBefore}");
for (int round = 0; round <= rounds; round++)
{
    foreach (var c in cases)
    {
        var o = c.Ours();
        var l = c.Llama();
        if (round == 0)
        {
            string[] words = c.Name.Split(' ');
            warmIds[$"{words[1]} {words[2]}"] = (o.Ids, l.Ids);
            // How soon each engine leaves its own f32 ids: random weights give flat logits, so argmax flips early.
            c.Check = Agreement.Ids(o.Ids, l.Ids) + (words[1] != "f32" && warmIds.TryGetValue($"f32 {words[2]}", out var f)
                ? $"; vs own f32: ours {Agreement.Ids(o.Ids, f.Ours)}, llama.cpp {Agreement.Ids(l.Ids, f.Llama)}"
                : "");
            Console.WriteLine($"warm-up {c.Name}: {c.Check}");
            continue;
        }
        c.OursRuns.Add(o);
        c.LlamaRuns.Add(l);
    }
    if (round > 0) Console.WriteLine($"round {round}/{rounds} done, load average {Load()}");
}

Console.WriteLine();
Console.WriteLine("| case | ours decode tok/s | llama.cpp decode tok/s | ours/llama.cpp (decode) | ours prefill tok/s | llama.cpp prefill tok/s | ids |");
Console.WriteLine("|---|---:|---:|---:|---:|---:|---|");
foreach (var c in cases)
{
    double oursDecode = Statistics.Median(c.OursRuns.Select(r => r.DecodeRate)), llamaDecode = Statistics.Median(c.LlamaRuns.Select(r => r.DecodeRate));
    double oursPrefill = Statistics.Median(c.OursRuns.Select(r => r.PrefillRate)), llamaPrefill = Statistics.Median(c.LlamaRuns.Select(r => r.PrefillRate));
    Console.WriteLine($"| {c.Name} | {oursDecode:F1} | {llamaDecode:F1} | {oursDecode / llamaDecode:F2} | {oursPrefill:F0} | {llamaPrefill:F0} | {c.Check} |");
}
Console.WriteLine($"\nload average before {loadBefore}, after {Load()} (1, 5, 15 min)");
foreach (var l in llamas.Values) l.Dispose();
return 0;
