using System.CommandLine;
using Peft.Cli.Data;
using Peft.Cli.Training;
using Peft.Tokenizers;
using Peft.Transformers.Configuration;
using Peft.Transformers.Loading;
using Peft.Transformers.Models;
using Peft.Tuners.MultitaskPromptTuning;
using Peft.Tuners.PeftModels;
using Peft.Tuners.Training;

namespace Peft.Cli.Commands;

/// <summary>
/// <c>peft train</c>: trains one adapter of any PEFT method on a data file and writes it as an HF
/// PEFT folder. The row format decides the task ({prompt, completion}, {text}, {text, label} for
/// classification, {source, target} for T5). Ctrl+C stops after the current step and leaves a
/// checkpoint in OUT/checkpoint that <c>--resume</c> continues from to the same weights; so does a
/// process killed at any moment (the checkpoint and the finished adapter are each written whole).
/// </summary>
internal sealed class TrainCommand : CliCommand
{
    private const string AdapterName = "default";
    private const string CheckpointFolderName = "checkpoint";

    private readonly Option<string> _model = CliOptions.Model();
    private readonly MethodOptions _method = new();
    private readonly Option<string> _data = new("--data") { Description = "training data: .jsonl, .csv or .tsv (required)", HelpName = "FILE" };
    private readonly Option<string> _eval = new("--eval") { Description = "evaluation data (same format): loss and perplexity after each epoch", HelpName = "FILE" };
    private readonly Option<string> _columns = new("--columns") { Description = "which columns hold the fields, e.g. prompt=question,completion=answer", HelpName = "FIELD=COL,..." };
    private readonly Option<string> _out = new("--out") { Description = "folder for the adapter (adapter_config.json, adapter_model.safetensors) (required)", HelpName = "DIR" };
    private readonly Option<int> _epochs = CliOptions.Int("--epochs", "passes over the data", 3);
    private readonly Option<int?> _maxSteps = CliOptions.OptionalInt("--max-steps", "stop after this many optimizer steps (overrides --epochs)");
    private readonly Option<float> _lr = CliOptions.Float("--lr", "peak learning rate (AdamW)", 1e-3f);
    private readonly Option<int> _batchSize = CliOptions.Int("--batch-size", "rows per micro-batch", 8);
    private readonly Option<int> _gradAccum = CliOptions.Int("--grad-accum", "micro-batches per optimizer step", 1);
    private readonly Option<int?> _maxLength = CliOptions.OptionalInt("--max-length", "cut rows to this many tokens (default: 512, or less to fit the model's positions)", minimum: 2);
    private readonly Option<ulong> _seed = new("--seed") { Description = "seed of the adapter's initialization, shuffling and dropout", DefaultValueFactory = _ => 42, HelpName = "N" };
    private readonly Option<string> _quantize = CliOptions.Quantize();
    private readonly Option<string> _resume = new("--resume") { Description = "continue from a checkpoint folder (same options and data)", HelpName = "DIR" };
    private readonly Option<bool> _gradientCheckpointing = new("--gradient-checkpointing") { Description = "recompute activations in the backward pass (less memory, slower)" };
    private readonly Option<int> _warmupSteps = CliOptions.Int("--warmup-steps", "linear warmup steps", 0, minimum: 0);
    private readonly Option<string> _schedule = new Option<string>("--schedule")
    {
        Description = "learning-rate decay after warmup",
        HelpName = "linear|cosine|constant",
        DefaultValueFactory = _ => "linear",
    }.AcceptOnlyFromAmong("linear", "cosine", "constant");
    private readonly Option<int?> _logEvery = CliOptions.OptionalInt("--log-every", "report every N steps (default: every step on a terminal, about 50 reports otherwise)");
    private readonly Option<int?> _checkpointEvery = CliOptions.OptionalInt("--checkpoint-every", "also write OUT/checkpoint every N steps");

    public override string Name => "train";

    public override string Description => "Train a PEFT adapter (prompt, prefix, ptuning, multitask, lora, ia3) on a JSONL/CSV/TSV file.";

    public override string Example => "peft train --model ./gpt2 --method lora --r 8 --lora-alpha 16 --target-modules c_attn --data train.jsonl --eval dev.jsonl --out ./my-lora --epochs 3 --lr 2e-4";

    public override int Order => 10;

    protected override void Define(Command command)
    {
        command.Options.Add(_model);
        foreach (var option in _method.All) command.Options.Add(option);
        foreach (var option in new Option[]
        {
            _data, _eval, _columns, _out, _epochs, _maxSteps, _lr, _batchSize, _gradAccum, _maxLength, _seed, _quantize, _resume,
            _gradientCheckpointing, _warmupSteps, _schedule, _logEvery, _checkpointEvery,
        })
            command.Options.Add(option);
    }

    protected override int Execute(ParseResult result, CliContext context)
    {
        string folder = Required(result, _model);
        string method = Required(result, _method.Method);
        string dataPath = Required(result, _data);
        string output = Required(result, _out);
        if (!Directory.Exists(folder)) throw new UsageException($"train: model folder not found: {folder}");
        if (!File.Exists(Path.Combine(folder, Tokenizer.FileName))) throw new UsageException($"train: --model {folder} has no {Tokenizer.FileName}.");
        // The adapter replaces OUT whole at the end (the checkpoint inside goes with the old OUT), so OUT must be movable.
        AtomicFolder.CheckReplaceable(output);
        string? resume = result.GetValue(_resume);
        // A run killed while writing OUT or a checkpoint may have left it only moved aside: put it back before looking.
        AtomicFolder.Recover(output);
        if (resume is not null) AtomicFolder.Recover(resume);
        if (resume is not null && !File.Exists(Path.Combine(resume, "trainer_state.json")))
            throw new UsageException($"train: --resume {resume} is not a checkpoint folder (no trainer_state.json).");
        var columns = ColumnMapping.Parse(result.GetValue(_columns));
        var formats = RecordFormats.For(folder);
        var train = DataFile.Read(Name, dataPath, columns, formats);
        var eval = result.GetValue(_eval) is { } evalPath ? DataFile.Read(Name, evalPath, columns, formats) : null;
        var kind = train[0].Kind;
        if (eval is not null && eval[0].Kind != kind)
            throw new UsageException($"train: {eval[0].Location.File} has {DataFile.Describe(eval[0].Kind)} rows but {dataPath} has {DataFile.Describe(kind)} rows.");

        var config = ModelConfig.Load(folder);
        var task = kind == ExampleKind.Classification ? ModelTask.SequenceClassification
            : config.IsEncoderDecoder ? ModelTask.Seq2SeqLM : ModelTask.CausalLM;
        ExampleEncoder.CheckFits(kind, task, dataPath);
        var labels = kind == ExampleKind.Classification ? train.Select(e => e.Label!).Distinct().Order(StringComparer.Ordinal).ToArray() : null;
        if (labels is { Length: < 2 }) throw new UsageException($"{dataPath}: classification needs at least two labels; every row has '{labels[0]}'.");

        var load = new LoadOptions { Quantization = CliOptions.Format(result.GetValue(_quantize)) };
        ulong seed = result.GetValue(_seed);
        ILanguageModel baseModel = task switch
        {
            ModelTask.SequenceClassification => ModelLoader.LoadSequenceClassifier(folder, labels!.Length, load, seed),
            ModelTask.Seq2SeqLM => ModelLoader.LoadSeq2Seq(folder, load),
            _ => ModelLoader.LoadCausal(folder, load),
        };
        var tokenizer = Tokenizer.Load(folder);
        var peft = new PeftModel(baseModel);
        var methodConfig = _method.Config(result, config.Family);
        peft.AddAdapter(AdapterName, methodConfig, seed, text => tokenizer.Encode(text, addSpecialTokens: false).Ids);

        int? eos = tokenizer.EosTokenId ?? (config.EosTokenIds.Count > 0 ? config.EosTokenIds[0] : null);
        var encoder = new ExampleEncoder(tokenizer, task, eos, labels);
        int tasks = methodConfig is MultitaskPromptTuningConfig multitask ? multitask.NumTasks : 0;
        var trainRows = Encode(encoder, train, tasks);
        var evalRows = eval is null ? null : Encode(encoder, eval, tasks);

        int batch = result.GetValue(_batchSize), accumulation = result.GetValue(_gradAccum);
        int stepsPerEpoch = (((train.Count + batch - 1) / batch) + accumulation - 1) / accumulation;
        int? maxSteps = result.GetValue(_maxSteps);
        int total = maxSteps ?? result.GetValue(_epochs) * stepsPerEpoch;
        int epochs = maxSteps is int m ? (m + stepsPerEpoch - 1) / stepsPerEpoch : result.GetValue(_epochs);
        string checkpoint = Path.Combine(output, CheckpointFolderName);
        var options = new TrainerOptions
        {
            Epochs = result.GetValue(_epochs),
            MaxSteps = maxSteps,
            BatchSize = batch,
            GradientAccumulationSteps = accumulation,
            LearningRate = result.GetValue(_lr),
            Schedule = result.GetValue(_schedule) switch { "cosine" => LearningRateScheduleKind.Cosine, "constant" => LearningRateScheduleKind.Constant, _ => LearningRateScheduleKind.Linear },
            WarmupSteps = result.GetValue(_warmupSteps),
            GradientCheckpointing = result.GetValue(_gradientCheckpointing),
            Seed = seed,
            MaxLength = result.GetValue(_maxLength) ?? DefaultMaxLength(config, peft.VirtualTokenCount),
            LogEverySteps = result.GetValue(_logEvery) ?? (context.Interactive ? 1 : Math.Max(1, total / 50)),
            CheckpointFolder = checkpoint,
            CheckpointEverySteps = result.GetValue(_checkpointEvery) ?? 0,
        };
        var trainer = new Trainer(peft, options);
        if (resume is not null) trainer.ResumeFrom(resume);

        TrainingDisplay display = context.Interactive
            ? new LiveTrainingDisplay(context.Console(), stepsPerEpoch, epochs)
            : new PlainTrainingDisplay(context.Out, stepsPerEpoch, epochs);
        var (trainable, all) = peft.CountParameters();
        display.Message($"train: {method} on {folder}: {trainable:N0} trainable of {all:N0} parameters; {train.Count} rows " +
            $"({DataFile.Describe(kind)}), {total} steps{(resume is null ? "" : $", resuming from {resume}")}");
        TrainingResult outcome;
        try
        {
            outcome = display.Run(() => trainer.Train(trainRows, evalRows, display, context.Cancellation));
        }
        catch (OperationCanceledException)
        {
            // The Trainer writes the checkpoint when it sees the cancellation between steps; a
            // cancellation that lands elsewhere leaves the last completed step to write here.
            if (!File.Exists(Path.Combine(checkpoint, "trainer_state.json"))) trainer.SaveCheckpoint(checkpoint);
            context.Error.WriteLine($"peft: train: interrupted; a checkpoint of the last completed step is in {checkpoint}. " +
                $"Resume with: peft {ResumeCommandLine(result, checkpoint)}");
            return 1;
        }
        // One atomic switch from "OUT holds the checkpoint" to "OUT holds the whole adapter": a kill at any moment leaves one of
        // the two. Other files a user keeps in OUT are carried over; an old labels.json belongs to the adapter it replaces.
        AtomicFolder.Write(output, temp =>
        {
            peft.SaveAdapter(AdapterName, temp);
            AdapterConfigFile.SetBaseModel(temp, folder);
            if (labels is not null) LabelList.Write(temp, labels);
        }, keep: entry => entry != CheckpointFolderName && entry != LabelList.FileName);
        string best = outcome.BestEvaluation is { } b ? $"; best eval loss {b.Loss:F4} (perplexity {b.Perplexity:F2}) at step {outcome.BestStep}" : "";
        display.Message($"train: done: {outcome.Steps} steps, final loss {outcome.FinalLoss:F4}{best}; adapter saved to {output}");
        return 0;
    }

    /// <summary>512 tokens, or what fits the model's positions beside the virtual tokens of prompt methods.</summary>
    internal static int DefaultMaxLength(ModelConfig config, int virtualTokens) =>
        config.MaxPositionEmbeddings > 0 ? Math.Max(2, Math.Min(512, config.MaxPositionEmbeddings - virtualTokens)) : 512;

    private static List<TrainingExample> Encode(ExampleEncoder encoder, IReadOnlyList<TextExample> rows, int tasks)
    {
        var encoded = new List<TrainingExample>(rows.Count);
        foreach (var row in rows)
        {
            var example = encoder.Encode(row);
            if (tasks > 0)
            {
                int id = row.TaskId ?? 0;
                if (id >= tasks) throw new UsageException($"{row.Location}: task_id {id} is out of range; --num-tasks is {tasks}.");
                example = example with { TaskId = id };
            }
            else example = example with { TaskId = null };
            encoded.Add(example);
        }
        return encoded;
    }

    // The same command line with --resume pointing at the checkpoint.
    private static string ResumeCommandLine(ParseResult result, string checkpoint)
    {
        var tokens = result.Tokens.Select(t => t.Value).ToList();
        int at = tokens.IndexOf("--resume");
        if (at >= 0) tokens.RemoveRange(at, Math.Min(2, tokens.Count - at));
        tokens.AddRange(["--resume", checkpoint]);
        return string.Join(" ", tokens.Select(t => t.Length > 0 && t.All(c => char.IsLetterOrDigit(c) || "-_./=,:".Contains(c)) ? t : $"\"{t.Replace("\"", "\\\"")}\""));
    }
}
