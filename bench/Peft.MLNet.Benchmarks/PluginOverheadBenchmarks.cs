using BenchmarkDotNet.Attributes;
using Microsoft.ML;
using Microsoft.ML.Data;
using Peft.MLNet.Classification;
using Peft.MLNet.Generation;
using Peft.MLNet.Tests;
using Peft.Tensors;
using Peft.Tokenizers;
using Peft.Transformers.Generation;
using Peft.Transformers.Loading;
using Peft.Tuners.Adapters;
using Peft.Tuners.Lora;
using Peft.Tuners.PeftModels;
using Peft.Tuners.Training;

namespace Peft.MLNet.Benchmarks;

/// <summary>
/// What the ML.NET plug-in costs over the engine doing the same work directly, on a small base (GPT-2
/// shape, 4 layers, d=128) and a gpt2-small-sized one (12 layers, d=768; both byte-level tokenizer,
/// random weights): Fit against the engine's
/// Trainer (both load the base, tokenize and train LoRA for 2 epochs over 64 rows), one
/// PredictionEngine classification against tokenize + forward + softmax. Generation is in
/// <see cref="GenerationOverheadBenchmarks"/>.
/// </summary>
[Config(typeof(OverheadConfig))]
public class PluginOverheadBenchmarks
{
    private const int TrainRows = 64;
    private TinyBase _base = null!;
    private string _adapterFolder = "";
    private MLContext _ml = null!;
    private ReviewRow[] _reviews = [];
    private IDataView _reviewData = null!;
    private PredictionEngine<ReviewRow, ReviewScore> _classifierEngine = null!;
    private PeftModel _classifier = null!;
    private Tokenizer _tokenizer = null!;

    [Params("d128-l4", "d768-l12")]
    public string Base { get; set; } = "d128-l4";

    private static LoraConfig Lora => new() { R = 8, LoraAlpha = 16, TargetModules = TargetModules.FromNames("c_attn", "c_fc") };

    [GlobalSetup]
    public void Setup()
    {
        _base = Base == "d768-l12" ? TinyBase.Create(width: 768, layers: 12) : TinyBase.Create(width: 128, layers: 4);
        _ml = new MLContext(seed: 1);
        _reviews = BenchRows.Reviews(TrainRows);
        _reviewData = _ml.Data.LoadFromEnumerable(_reviews);
        _tokenizer = Tokenizer.Load(_base.Folder);

        var classifier = PluginFit();
        _classifierEngine = _ml.Model.CreatePredictionEngine<ReviewRow, ReviewScore>(classifier);
        _adapterFolder = Path.Combine(_base.Folder, "classifier-adapter");
        classifier.LastTransformer.SaveAdapter(_adapterFolder);
        _classifier = new PeftModel(ModelLoader.LoadSequenceClassifier(_base.Folder, 3, new LoadOptions(), 1));
        _classifier.LoadAdapter(_adapterFolder, "peft");
    }

    [GlobalCleanup]
    public void Cleanup() => _base.Dispose();

    private PeftTextClassificationTrainer.Options FitOptions() => new()
    {
        BaseModelFolder = _base.Folder,
        Sentence1ColumnName = "Text",
        Method = Lora,
        Epochs = 2,
        BatchSize = 8,
        MaxLength = 64,
        LearningRate = 1e-3f,
    };

    private TransformerChain<PeftTextClassificationTransformer> PluginFit() =>
        _ml.Transforms.Conversion.MapValueToKey("Label", "Sentiment")
            .Append(_ml.MulticlassClassification.Trainers.PeftTextClassification(FitOptions()))
            .Fit(_reviewData);

    [Benchmark(Description = "Fit: plug-in (IDataView pipeline)")]
    [BenchmarkCategory("fit")]
    public ITransformer FitPlugin() => PluginFit();

    [Benchmark(Baseline = true, Description = "Fit: engine (load, tokenize, Trainer)")]
    [BenchmarkCategory("fit")]
    public int FitEngine()
    {
        var options = FitOptions();
        var tokenizer = Tokenizer.Load(_base.Folder);
        var model = new PeftModel(ModelLoader.LoadSequenceClassifier(_base.Folder, 3, new LoadOptions(), 1));
        model.AddAdapter("peft", Lora, 1);
        string[] labels = ["positive", "negative", "neutral"];
        var rows = _reviews.Select(r => new TrainingExample(Cut(tokenizer.Encode(r.Text, addSpecialTokens: true).Ids, 64),
            [Array.IndexOf(labels, r.Sentiment)]))
            .ToList();
        var trainer = new Trainer(model, new TrainerOptions
        {
            Epochs = options.Epochs, BatchSize = options.BatchSize, MaxLength = options.MaxLength, LearningRate = options.LearningRate,
            Seed = 1, PadTokenId = tokenizer.PadTokenId ?? tokenizer.EosTokenId,
        });
        return trainer.Train(rows).Steps;
    }

    private static IReadOnlyList<int> Cut(IReadOnlyList<int> ids, int max) => ids.Count > max ? ids.Take(max).ToArray() : ids;

    [Benchmark(Description = "Classify 1 row: PredictionEngine")]
    [BenchmarkCategory("classify")]
    public float ClassifyPredictionEngine() => _classifierEngine.Predict(_reviews[5]).Score[0];

    [Benchmark(Baseline = true, Description = "Classify 1 row: engine (tokenize, forward, softmax)")]
    [BenchmarkCategory("classify")]
    public float ClassifyEngine()
    {
        var ids = _tokenizer.Encode(_reviews[5].Text, addSpecialTokens: true).Ids;
        using var noGrad = Autograd.NoGrad();
        using var scope = new TensorScope();
        var logits = _classifier.Forward(IntTensor.FromArray([.. ids], 1, ids.Count)).Logits.Span;
        float max = float.NegativeInfinity, sum = 0;
        foreach (float l in logits) max = Math.Max(max, l);
        foreach (float l in logits) sum += MathF.Exp(l - max);
        return MathF.Exp(logits[0] - max) / sum;
    }
}
