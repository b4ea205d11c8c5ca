using System.CommandLine;
using Peft.Transformers.Configuration;
using Peft.Transformers.Loading;
using Peft.Tuners.Adapters;

namespace Peft.Cli.Commands;

/// <summary>
/// <c>peft merge</c>: folds a LoRA or IA3 adapter into the base weights and writes a full model
/// folder (the base's config and tokenizer files copied, model.safetensors in the base's names
/// and dtypes) that loads without PEFT. Written to a temporary folder beside the target and moved
/// into place, so a failure leaves nothing half-written.
/// </summary>
internal sealed class MergeCommand : CliCommand
{
    // Weight files of the base, replaced by the merged model.safetensors.
    private static readonly string[] WeightSuffixes = [".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".gguf", ".safetensors.index.json", ".bin.index.json"];

    private readonly Option<string> _model = CliOptions.Model();
    private readonly Option<string> _adapter = new("--adapter") { Description = "LoRA or IA3 adapter folder to merge (required)", HelpName = "DIR" };
    private readonly Option<string> _out = new("--out") { Description = "new model folder (must not exist or be empty) (required)", HelpName = "DIR" };

    public override string Name => "merge";

    public override string Description => "Merge a LoRA/IA3 adapter into its base and write a full Hugging Face model folder.";

    public override string Example => "peft merge --model ./gpt2 --adapter ./my-lora --out ./gpt2-merged";

    public override int Order => 40;

    protected override void Define(Command command)
    {
        foreach (var option in new Option[] { _model, _adapter, _out }) command.Options.Add(option);
    }

    protected override int Execute(ParseResult result, CliContext context)
    {
        string folder = Required(result, _model), adapter = Required(result, _adapter), output = Required(result, _out);
        if (!File.Exists(Path.Combine(adapter, AdapterFiles.ConfigFileName)))
            throw new UsageException($"merge: --adapter {adapter}: no {AdapterFiles.ConfigFileName} there.");
        string type = AdapterFactory.PeekType(adapter);
        if (type is not ("LORA" or "IA3"))
            throw new UsageException($"merge: {adapter} is a {type} adapter; prompt-type methods (prompt, prefix, P-tuning, multitask) " +
                "add inputs rather than change weights, so they cannot be merged; use it with --adapter instead. Only LORA and IA3 merge.");
        if (LabelList.TryRead(adapter) is not null)
            throw new UsageException($"merge: {adapter} is a sequence-classification adapter (it has its own head); merging it would not give a language model folder.");
        if (Directory.Exists(output) && Directory.EnumerateFileSystemEntries(output).Any())
            throw new UsageException($"merge: --out {output} already exists and is not empty; choose a new folder.");
        if (Directory.Exists(folder) && ModelConfig.Load(folder).GetRawField("quantization_config") is not null)
            throw new UsageException($"merge: {folder} holds quantized weights; merge into the float model.");
        var model = LoadedModel.Load(Name, folder, [adapter], null, context.Error);
        model.Model.MergeAndUnload(model.Model.AdapterNames[0]);

        AtomicFolder.Write(output, temp =>
        {
            foreach (string file in Directory.EnumerateFiles(folder))
            {
                string name = Path.GetFileName(file);
                if (WeightSuffixes.Any(s => name.EndsWith(s, StringComparison.OrdinalIgnoreCase))) continue;
                File.Copy(file, Path.Combine(temp, name));
            }
            MergedCheckpoint.Write(model.Model.BaseModel.Parameters, folder, Path.Combine(temp, CheckpointReader.SingleFileName));
        });
        context.Out.WriteLine($"merge: {type} adapter {adapter} merged into {folder}; wrote {output} " +
            $"({string.Join(", ", Directory.EnumerateFiles(output).Select(Path.GetFileName).Order(StringComparer.Ordinal))})");
        return 0;
    }
}
