using System.Diagnostics;
using Peft.Tensors;
using Peft.Transformers.Models;
using Peft.Transformers.SafeTensors;

namespace Peft.Cli.Commands;

/// <summary>
/// <c>peft logits</c>: the forward pass exactly as Hugging Face's <c>model(**inputs)</c> (a PEFT
/// model's, with adapters) with no position ids; writes <c>logits</c> (and <c>loss</c> when labels
/// are given). Prompt adapters put their virtual positions first, as PEFT does.
/// </summary>
internal static class LogitsCommand
{
    public const string Usage = "peft logits --model DIR [--adapter DIR]... --inputs IN.safetensors --out OUT.safetensors [--stats]";

    public static int Run(IReadOnlyList<string> argv)
    {
        var args = new CommandLine("logits", argv, ["--model", "--adapter", "--inputs", "--out"], ["--stats"]);
        var inputs = ModelInputs.Read(args.Required("--inputs"));
        string output = args.Required("--out");
        var model = LoadedModel.Load(args);
        var clock = Stopwatch.StartNew();
        var entries = new List<SafeTensorWriteEntry>();
        using (Autograd.NoGrad())
        using (new TensorScope())
        {
            if (model.Model.TaskType == ModelTask.Seq2SeqLM && inputs.DecoderInputIds is null && inputs.Labels is null)
                throw new UsageException("logits: a seq2seq model needs decoder_input_ids or labels in the inputs file.");
            var result = model.Model.Forward(inputs.InputIds, inputs.AttentionMask, inputs.Labels, inputs.TaskIds, inputs.DecoderInputIds);
            entries.Add(OutputFile.Float32("logits", result.Logits));
            if (result.Loss is not null) entries.Add(OutputFile.Float32("loss", result.Loss));
            OutputFile.Write(output, entries);
        }
        if (args.Has("--stats"))
            Console.Error.WriteLine($"load {model.LoadTime.TotalSeconds:F3} s; prefill {inputs.InputIds.Length / clock.Elapsed.TotalSeconds:F0} tok/s");
        return 0;
    }
}
