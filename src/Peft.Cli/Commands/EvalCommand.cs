using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Peft.Cli.Data;
using Peft.Tensors;
using Peft.Tokenizers;
using Peft.Transformers.Generation;
using Peft.Transformers.Loading;
using Peft.Transformers.Models;
using Peft.Tuners.Training;
using Spectre.Console;

namespace Peft.Cli.Commands;

/// <summary>
/// <c>peft eval</c>: loss and perplexity over a data file (as training computes them), and
/// exact-match accuracy: the greedy continuation of each prompt (up to the reference's length
/// plus one token, stopping at eos) equals the reference completion once both are trimmed of
/// surrounding white space; for classification, the predicted label equals the row's.
/// </summary>
internal sealed class EvalCommand : CliCommand
{
    private readonly Option<string> _model = CliOptions.Model();
    private readonly Option<string[]> _adapters = CliOptions.Adapters();
    private readonly Option<string> _data = new("--data") { Description = "evaluation data: .jsonl, .csv or .tsv (required)", HelpName = "FILE" };
    private readonly Option<string> _columns = new("--columns") { Description = "which columns hold the fields, e.g. prompt=question,completion=answer", HelpName = "FIELD=COL,..." };
    private readonly Option<int> _batchSize = CliOptions.Int("--batch-size", "rows per forward pass for the loss", 8);
    private readonly Option<int?> _maxLength = CliOptions.OptionalInt("--max-length", "cut rows to this many tokens (default: 512, or less to fit the model's positions)", minimum: 2);
    private readonly Option<string> _quantize = CliOptions.Quantize();
    private readonly Option<bool> _json = new("--json") { Description = "print the figures as one JSON object instead of a table" };

    public override string Name => "eval";

    public override string Description => "Loss, perplexity and exact-match accuracy of a model (with adapters) on a data file.";

    public override string Example => "peft eval --model ./gpt2 --adapter ./my-lora --data dev.jsonl --json";

    public override int Order => 30;

    protected override void Define(Command command)
    {
        foreach (var option in new Option[] { _model, _adapters, _data, _columns, _batchSize, _maxLength, _quantize, _json }) command.Options.Add(option);
    }

    protected override int Execute(ParseResult result, CliContext context)
    {
        string folder = Required(result, _model);
        string dataPath = Required(result, _data);
        var rows = DataFile.Read(Name, dataPath, ColumnMapping.Parse(result.GetValue(_columns)), RecordFormats.For(folder));
        var model = LoadedModel.Load(Name, folder, result.GetValue(_adapters) ?? [],
            new LoadOptions { Quantization = CliOptions.Format(result.GetValue(_quantize)) }, context.Error);
        if (!File.Exists(Path.Combine(folder, Tokenizer.FileName))) throw new UsageException($"eval: --model {folder} has no {Tokenizer.FileName}.");
        var tokenizer = Tokenizer.Load(folder);
        var peft = model.Model;
        ExampleEncoder.CheckFits(rows[0].Kind, peft.TaskType, dataPath);
        var config = peft.BaseModel.Config;
        int? eos = tokenizer.EosTokenId ?? (config.EosTokenIds.Count > 0 ? config.EosTokenIds[0] : null);
        var encoder = new ExampleEncoder(tokenizer, peft.TaskType, eos, model.Labels);
        bool needsTask = peft.NeedsTaskIds;
        var encoded = rows.Select(r => encoder.Encode(r) with { TaskId = needsTask ? r.TaskId ?? 0 : null }).ToList();

        var trainer = new Trainer(peft, new TrainerOptions { BatchSize = result.GetValue(_batchSize), MaxLength = result.GetValue(_maxLength)
            ?? TrainCommand.DefaultMaxLength(config, peft.VirtualTokenCount) });
        var loss = trainer.Evaluate(encoded, context.Cancellation);
        int? correct = rows[0].Kind switch
        {
            ExampleKind.Text => null,
            ExampleKind.Classification => rows.Zip(encoded).Count(p => Predict(peft, p.Second) == p.Second.Labels![0]),
            _ => rows.Zip(encoded).Count(p => Matches(peft, tokenizer, encoder, p.First, p.Second, eos)),
        };
        if (result.GetValue(_json))
        {
            var json = new JsonObject
            {
                ["examples"] = rows.Count,
                ["target_tokens"] = loss.Tokens,
                ["loss"] = loss.Loss,
                ["perplexity"] = loss.Perplexity,
                ["exact_match"] = correct is int c ? (double)c / rows.Count : null,
                ["exact_match_count"] = correct,
            };
            context.Out.WriteLine(json.ToJsonString(new JsonSerializerOptions { WriteIndented = false }));
            return 0;
        }
        var table = new Table().AddColumn("metric").AddColumn(new TableColumn("value").RightAligned());
        table.Title = new TableTitle(Markup.Escape($"{Path.GetFileName(dataPath)}: {rows.Count} rows"));
        table.AddRow("loss", loss.Loss.ToString("F4", CultureInfo.InvariantCulture));
        table.AddRow("perplexity", loss.Perplexity.ToString("F2", CultureInfo.InvariantCulture));
        table.AddRow("target tokens", loss.Tokens.ToString(CultureInfo.InvariantCulture));
        table.AddRow(rows[0].Kind == ExampleKind.Classification ? "accuracy" : "exact match",
            correct is int k ? string.Create(CultureInfo.InvariantCulture, $"{(double)k / rows.Count:P1} ({k}/{rows.Count})") : "n/a (text rows)");
        context.Console().Write(table);
        return 0;
    }

    private static int Predict(Tuners.PeftModels.PeftModel peft, TrainingExample row)
    {
        using var noGrad = Autograd.NoGrad();
        using var scope = new TensorScope();
        var ids = IntTensor.FromArray([.. row.InputIds], 1, row.InputIds.Count);
        var logits = peft.Forward(ids, null, null, row.TaskId is int t ? IntTensor.FromArray([t], 1) : null).Logits.Span;
        int best = 0;
        for (int i = 1; i < logits.Length; i++) if (logits[i] > logits[best]) best = i;
        return best;
    }

    private static bool Matches(Tuners.PeftModels.PeftModel peft, Tokenizer tokenizer, ExampleEncoder encoder, TextExample row, TrainingExample encoded, int? eos)
    {
        var prompt = encoder.PromptIds(row);
        // A chat turn carries its template's end of turn, so its own length is enough; other references get one more token to show eos.
        var options = new GenerationOptions { MaxNewTokens = encoder.TargetTokens(row) + (row.Kind == ExampleKind.Chat ? 0 : 1), EosTokenIds = eos is int e ? [e] : null };
        var sequences = peft.Generate(IntTensor.FromArray([.. prompt], 1, prompt.Count), null, options,
            encoded.TaskId is int t ? IntTensor.FromArray([t], 1) : null);
        int skip = peft.TaskType == ModelTask.Seq2SeqLM ? 1 : prompt.Count;
        string text = tokenizer.Decode(sequences.ToArray().Skip(skip).ToArray(), skipSpecialTokens: true);
        return text.Trim() == encoder.ReferenceText(row).Trim();
    }
}
