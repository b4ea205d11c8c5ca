using System.Diagnostics;
using Peft.Tensors;
using Peft.Transformers.SafeTensors;

namespace Peft.Cli.Commands;

/// <summary>
/// <c>peft logits</c>: the forward pass exactly as Hugging Face's <c>model(**inputs)</c> with no
/// position ids; writes <c>logits</c> (and <c>loss</c> when labels are given).
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
            if (model.Causal is { } causal)
            {
                var result = causal.Forward(inputIds: inputs.InputIds, attentionMask: inputs.AttentionMask, labels: inputs.Labels);
                entries.Add(OutputFile.Float32("logits", result.Logits));
                if (result.Loss is { } loss) entries.Add(OutputFile.Float32("loss", loss));
            }
            else
            {
                var t5 = model.Seq2Seq!;
                if (inputs.DecoderInputIds is null && inputs.Labels is null)
                    throw new UsageException("logits: a seq2seq model needs decoder_input_ids or labels in the inputs file.");
                var result = t5.Forward(inputIds: inputs.InputIds, attentionMask: inputs.AttentionMask, decoderInputIds: inputs.DecoderInputIds, labels: inputs.Labels);
                entries.Add(OutputFile.Float32("logits", result.Logits));
                if (result.Loss is { } loss) entries.Add(OutputFile.Float32("loss", loss));
            }
            OutputFile.Write(output, entries);
        }
        if (args.Has("--stats"))
        {
            double tokens = inputs.InputIds.Length;
            Console.Error.WriteLine($"load {model.LoadTime.TotalSeconds:F3} s; prefill {tokens / clock.Elapsed.TotalSeconds:F0} tok/s");
        }
        return 0;
    }
}
