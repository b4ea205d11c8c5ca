using BenchmarkDotNet.Attributes;
using Microsoft.ML;
using Microsoft.ML.Data;
using Peft.MLNet.Generation;
using Peft.MLNet.Tests;
using Peft.Tensors;
using Peft.Tokenizers;
using Peft.Transformers.Generation;
using Peft.Transformers.Loading;
using Peft.Tuners.Adapters;
using Peft.Tuners.Lora;
using Peft.Tuners.PeftModels;

namespace Peft.MLNet.Benchmarks;

/// <summary>
/// Generation of 16 prompts (16 new tokens, greedy, LoRA adapter) through the plug-in against the
/// engine: batched <c>Transform</c> (8 rows per pass), a PredictionEngine loop, and the engine's
/// Generate per prompt, on a small base (4 layers, d=128) and a gpt2-small-sized one (12 layers,
/// d=768; byte-level vocabulary, random weights).
/// </summary>
[Config(typeof(OverheadConfig))]
public class GenerationOverheadBenchmarks
{
    private const int Prompts = 16;
    private TinyBase _base = null!;
    private PromptRow[] _prompts = [];
    private IDataView _promptData = null!;
    private PeftTextGenerationTransformer _generator = null!;
    private PredictionEngine<PromptRow, PromptAnswer> _engine = null!;
    private PeftModel _model = null!;
    private Tokenizer _tokenizer = null!;
    private GenerationOptions _generation = null!;

    [Params("d128-l4", "d768-l12")]
    public string Base { get; set; } = "d128-l4";

    [GlobalSetup]
    public void Setup()
    {
        _base = Base == "d768-l12" ? TinyBase.Create(width: 768, layers: 12) : TinyBase.Create(width: 128, layers: 4);
        var ml = new MLContext(seed: 1);
        _prompts = BenchRows.Prompts(Prompts);
        _promptData = ml.Data.LoadFromEnumerable(_prompts);
        _tokenizer = Tokenizer.Load(_base.Folder);
        _generation = new GenerationOptions { MaxNewTokens = 16 };
        _generator = ml.Transforms.Text.PeftTextGeneration(new PeftTextGenerationTrainer.Options
        {
            BaseModelFolder = _base.Folder,
            Method = new LoraConfig { R = 8, LoraAlpha = 16, TargetModules = TargetModules.FromNames("c_attn", "c_fc") },
            Epochs = 1,
            Generation = _generation,
            TransformBatchSize = 8,
        }).Fit(_promptData);
        _engine = ml.Model.CreatePredictionEngine<PromptRow, PromptAnswer>(_generator);
        string adapter = Path.Combine(_base.Folder, "generator-adapter");
        _generator.SaveAdapter(adapter);
        _model = new PeftModel(ModelLoader.LoadCausal(_base.Folder));
        _model.LoadAdapter(adapter, "peft");
    }

    [GlobalCleanup]
    public void Cleanup() => _base.Dispose();

    [Benchmark(Description = "Generate 16 rows: Transform, batches of 8")]
    public int TransformBatched() => _generator.Transform(_promptData).GetColumn<string>("GeneratedText").Sum(t => t.Length);

    [Benchmark(Description = "Generate 16 rows: PredictionEngine loop")]
    public int PredictionEngineLoop() => _prompts.Sum(p => _engine.Predict(p).GeneratedText.Length);

    [Benchmark(Baseline = true, Description = "Generate 16 rows: engine Generate per row")]
    public int EngineLoop()
    {
        int total = 0;
        var options = _generation with { EosTokenIds = [TinyBase.EndOfText] };
        foreach (var prompt in _prompts)
        {
            var ids = _tokenizer.Encode(prompt.Prompt, addSpecialTokens: true).Ids;
            var sequences = _model.Generate(IntTensor.FromArray([.. ids], 1, ids.Count), null, options);
            total += _tokenizer.Decode(sequences.Span[ids.Count..].ToArray(), skipSpecialTokens: true).Length;
        }
        return total;
    }
}
