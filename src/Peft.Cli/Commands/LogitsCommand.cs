using System.CommandLine;
using System.Diagnostics;
using Peft.Tensors;
using Peft.Transformers.Models;

namespace Peft.Cli.Commands;

/// <summary>
/// <c>peft logits</c>: the forward pass exactly as Hugging Face's <c>model(**inputs)</c> (a PEFT
/// model's, with adapters) with no position ids; writes <c>logits</c> (and <c>loss</c> when labels
/// are given). Prompt adapters put their virtual positions first, as PEFT does.
/// </summary>
internal sealed class LogitsCommand : CliCommand
{
    private readonly Option<string> _model = CliOptions.Model();
    private readonly Option<string[]> _adapters = CliOptions.Adapters();
    private readonly Option<string> _inputs = new("--inputs") { Description = "safetensors with input_ids [, attention_mask, labels, decoder_input_ids, task_ids] (required)", HelpName = "IN.safetensors" };
    private readonly Option<string> _out = new("--out") { Description = "safetensors to write logits (and loss) to (required)", HelpName = "OUT.safetensors" };
    private readonly Option<bool> _stats = new("--stats") { Description = "print load time and prefill speed to stderr" };

    public override string Name => "logits";

    public override string Description => "Forward pass on token ids from a safetensors file; writes the logits (and loss).";

    public override string Example => "peft logits --model ./gpt2 --adapter ./my-lora --inputs in.safetensors --out logits.safetensors";

    public override int Order => 80;

    protected override void Define(Command command)
    {
        foreach (var option in new Option[] { _model, _adapters, _inputs, _out, _stats }) command.Options.Add(option);
    }

    protected override int Execute(ParseResult result, CliContext context)
    {
        var inputs = ModelInputs.Read(Required(result, _inputs));
        string output = Required(result, _out);
        var model = LoadedModel.Load(Name, Required(result, _model), result.GetValue(_adapters) ?? [], null, context.Error);
        var clock = Stopwatch.StartNew();
        var entries = new List<Peft.Transformers.SafeTensors.SafeTensorWriteEntry>();
        using (Autograd.NoGrad())
        using (new TensorScope())
        {
            if (model.Model.TaskType == ModelTask.Seq2SeqLM && inputs.DecoderInputIds is null && inputs.Labels is null)
                throw new UsageException("logits: a seq2seq model needs decoder_input_ids or labels in the inputs file.");
            var forward = model.Model.Forward(inputs.InputIds, inputs.AttentionMask, inputs.Labels, inputs.TaskIds, inputs.DecoderInputIds);
            entries.Add(OutputFile.Float32("logits", forward.Logits));
            if (forward.Loss is not null) entries.Add(OutputFile.Float32("loss", forward.Loss));
            OutputFile.Write(output, entries);
        }
        if (result.GetValue(_stats))
            context.Error.WriteLine($"load {model.LoadTime.TotalSeconds:F3} s; prefill {inputs.InputIds.Length / clock.Elapsed.TotalSeconds:F0} tok/s");
        return 0;
    }
}
