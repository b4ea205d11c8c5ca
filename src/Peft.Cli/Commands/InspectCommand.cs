using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Peft.Transformers.Configuration;
using Peft.Transformers.Loading;
using Peft.Tuners.Adapters;
using Spectre.Console;

namespace Peft.Cli.Commands;

/// <summary>
/// <c>peft inspect DIR</c>: what a model folder (architecture, sizes, dtypes, parameter count,
/// files, tokenizer and chat template) or an adapter folder (method, its settings, trainable
/// parameters, base model) holds; with <c>--model</c>, whether the adapter loads on that base
/// and, when not, why (exit code 2).
/// </summary>
internal sealed class InspectCommand : CliCommand
{
    // adapter_config.json fields worth showing, in this order, when present and not null.
    private static readonly string[] AdapterFields =
    [
        "task_type", "base_model_name_or_path", "r", "lora_alpha", "lora_dropout", "use_rslora", "bias", "target_modules", "feedforward_modules",
        "modules_to_save", "num_virtual_tokens", "prompt_tuning_init", "prompt_tuning_init_text", "prefix_projection", "encoder_hidden_size",
        "encoder_reparameterization_type", "encoder_num_layers", "num_tasks", "num_ranks", "token_dim", "num_layers",
    ];

    private readonly Argument<string> _folder = new("DIR") { Description = "a model folder (config.json) or an adapter folder (adapter_config.json)" };
    private readonly Option<string> _model = new("--model") { Description = "for an adapter: check that it fits this base model folder", HelpName = "DIR" };

    public override string Name => "inspect";

    public override string Description => "Show what a model or adapter folder holds; with --model, whether an adapter fits that base.";

    public override string Example => "peft inspect ./my-lora --model ./gpt2";

    public override int Order => 50;

    protected override void Define(Command command)
    {
        command.Arguments.Add(_folder);
        command.Options.Add(_model);
    }

    protected override int Execute(ParseResult result, CliContext context)
    {
        string folder = result.GetValue(_folder)!;
        if (!Directory.Exists(folder)) throw new UsageException($"inspect: folder not found: {folder}");
        var table = new Table().AddColumn("").AddColumn("").HideHeaders();
        if (File.Exists(Path.Combine(folder, AdapterFiles.ConfigFileName)))
        {
            DescribeAdapter(folder, table);
            if (result.GetValue(_model) is { } model)
            {
                string? problem = null;
                try
                {
                    LoadedModel.Load(Name, model, [folder], null, TextWriter.Null);
                }
                catch (Exception ex) when (ex is UsageException or ModelConfigException or InvalidDataException or FileNotFoundException
                    or AdapterConfigException or ArgumentException)
                {
                    problem = (ex as UsageException)?.Detail ?? ex.Message;
                }
                table.AddRow("fits " + Markup.Escape(model), problem is null ? "yes: module names and shapes match" : "[red]no[/]: " + Markup.Escape(problem));
                if (problem is not null)
                {
                    context.Console().Write(table);
                    throw new UsageException($"inspect: {folder} does not fit {model}: {problem}");
                }
            }
        }
        else if (File.Exists(Path.Combine(folder, "config.json")))
        {
            if (result.GetValue(_model) is not null) throw new UsageException($"inspect: --model applies to adapter folders; {folder} is a model folder.");
            DescribeModel(folder, table);
        }
        else throw new UsageException($"inspect: {folder} has neither config.json (a model) nor {AdapterFiles.ConfigFileName} (an adapter).");
        context.Console().Write(table);
        return 0;
    }

    private static void DescribeModel(string folder, Table table)
    {
        var config = ModelConfig.Load(folder);
        table.Title = new TableTitle(Markup.Escape($"model {folder}"));
        Row(table, "architecture", $"{config.ModelType} ({config.Family}{(config.IsEncoderDecoder ? ", encoder-decoder" : ", decoder-only")})");
        Row(table, "layers", config.IsEncoderDecoder ? $"{config.NumLayers} encoder + {config.NumDecoderLayers} decoder" : $"{config.NumLayers}");
        Row(table, "hidden size", $"{config.HiddenSize} (intermediate {config.IntermediateSize})");
        Row(table, "attention heads", $"{config.NumAttentionHeads} (key/value {config.NumKeyValueHeads}, head dim {config.HeadDim})");
        Row(table, "vocabulary", $"{config.VocabSize}");
        if (config.MaxPositionEmbeddings > 0) Row(table, "max positions", $"{config.MaxPositionEmbeddings}");
        Row(table, "tied embeddings", config.TieWordEmbeddings ? "yes" : "no");
        using (var checkpoint = CheckpointReader.Open(folder))
        {
            var infos = checkpoint.Names.Select(checkpoint.GetInfo).ToList();
            Row(table, "dtype", string.Join(", ", infos.GroupBy(i => i.DType).OrderByDescending(g => g.Count()).Select(g => $"{g.Key} ({g.Count()} tensors)")));
            Row(table, "parameters", $"{infos.Sum(i => i.ElementCount):N0} in {infos.Count} tensors");
        }
        if (config.GetRawField("quantization_config") is { } q) Row(table, "quantization", q.ToJsonString());
        Row(table, "files", string.Join(", ", Directory.EnumerateFiles(folder).Order(StringComparer.Ordinal)
            .Select(f => $"{Path.GetFileName(f)} {Size(ResolvedFile.Info(f).Length)}")));
        Row(table, "tokenizer", File.Exists(Path.Combine(folder, "tokenizer.json")) ? "tokenizer.json" : "none (no tokenizer.json)");
        Row(table, "chat template", ChatTemplate(folder));
    }

    private static string ChatTemplate(string folder)
    {
        if (File.Exists(Path.Combine(folder, "chat_template.jinja"))) return "yes (chat_template.jinja)";
        string path = Path.Combine(folder, "tokenizer_config.json");
        if (!File.Exists(path)) return "no";
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            return doc.RootElement.TryGetProperty("chat_template", out var t) && t.ValueKind is JsonValueKind.String or JsonValueKind.Array
                ? "yes (tokenizer_config.json)" : "no";
        }
        catch (JsonException ex)
        {
            throw new UsageException($"{path}: not valid JSON ({ex.Message}).");
        }
    }

    private static void DescribeAdapter(string folder, Table table)
    {
        string path = Path.Combine(folder, AdapterFiles.ConfigFileName);
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllText(path));
        }
        catch (JsonException ex)
        {
            throw new UsageException($"{path}: not valid JSON ({ex.Message}).");
        }
        using (doc)
        {
            var root = doc.RootElement;
            string type = root.TryGetProperty("peft_type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : "(no peft_type)";
            table.Title = new TableTitle(Markup.Escape($"adapter {folder}"));
            Row(table, "method", type);
            foreach (string field in AdapterFields)
                if (root.TryGetProperty(field, out var value) && value.ValueKind != JsonValueKind.Null)
                    Row(table, field, value.ValueKind switch
                    {
                        JsonValueKind.String => value.GetString()!,
                        JsonValueKind.Array => string.Join(", ", value.EnumerateArray().Select(v => v.ValueKind == JsonValueKind.String ? v.GetString() : v.GetRawText())),
                        _ => JsonSerializer.Serialize(value),
                    });
        }
        string weights = Path.Combine(folder, AdapterFiles.WeightsFileName);
        if (File.Exists(weights))
        {
            using var file = Transformers.SafeTensors.SafeTensorsFile.Open(weights);
            Row(table, "trainable parameters", $"{file.Tensors.Values.Sum(i => i.ElementCount):N0} in {file.Tensors.Count} tensors ({Size(ResolvedFile.Info(weights).Length)})");
        }
        else Row(table, "trainable parameters", $"none: no {AdapterFiles.WeightsFileName}");
        if (LabelList.TryRead(folder) is { } labels) Row(table, "labels", string.Join(", ", labels));
    }

    private static void Row(Table table, string key, string value) => table.AddRow(Markup.Escape(key), Markup.Escape(value));

    private static string Size(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:F1} KiB"),
        < 1024L * 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024):F1} MiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024 * 1024):F2} GiB"),
    };
}
