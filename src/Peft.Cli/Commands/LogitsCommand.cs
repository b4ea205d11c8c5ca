using System.Diagnostics;
using Peft.Tensors;
using Peft.Transformers.SafeTensors;
using Peft.Tuners.Adapters;

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
        int batch = inputs.InputIds.Shape[0], length = inputs.InputIds.Shape[1];
        using (Autograd.NoGrad())
        using (new TensorScope())
        {
            var virtualTokens = model.Adapters.VirtualTokens(batch, inputs.TaskIds);
            var prefix = model.Prefix(batch);
            Tensor logits;
            Tensor? loss;
            if (model.Causal is { } causal)
            {
                Tensor? embeddings = null;
                var mask = inputs.AttentionMask;
                var labels = inputs.Labels;
                if (virtualTokens is not null)
                    (embeddings, mask, labels) = VirtualTokenInputs.Prepend(virtualTokens, causal.Embed(inputs.InputIds), mask, labels);
                if (prefix is not null)
                    mask = LoadedModel.ExtendMask(mask, batch, mask?.Shape[1] ?? length, prefix.Length);
                var result = embeddings is null
                    ? causal.Forward(inputIds: inputs.InputIds, attentionMask: mask, prefix: prefix, labels: labels)
                    : causal.Forward(inputEmbeddings: embeddings, attentionMask: mask, prefix: prefix, labels: labels);
                (logits, loss) = (result.Logits, result.Loss);
            }
            else
            {
                var t5 = model.Seq2Seq!;
                if (inputs.DecoderInputIds is null && inputs.Labels is null)
                    throw new UsageException("logits: a seq2seq model needs decoder_input_ids or labels in the inputs file.");
                Tensor? embeddings = null;
                var mask = inputs.AttentionMask;
                if (virtualTokens is not null)
                    (embeddings, mask, _) = VirtualTokenInputs.Prepend(virtualTokens, t5.Embed(inputs.InputIds), mask, null);
                var result = embeddings is null
                    ? t5.Forward(inputIds: inputs.InputIds, attentionMask: mask, decoderInputIds: inputs.DecoderInputIds, decoderPrefix: prefix, labels: inputs.Labels)
                    : t5.Forward(inputEmbeddings: embeddings, attentionMask: mask, decoderInputIds: inputs.DecoderInputIds, decoderPrefix: prefix, labels: inputs.Labels);
                (logits, loss) = (result.Logits, result.Loss);
            }
            entries.Add(OutputFile.Float32("logits", logits));
            if (loss is not null) entries.Add(OutputFile.Float32("loss", loss));
            OutputFile.Write(output, entries);
        }
        if (args.Has("--stats"))
            Console.Error.WriteLine($"load {model.LoadTime.TotalSeconds:F3} s; prefill {inputs.InputIds.Length / clock.Elapsed.TotalSeconds:F0} tok/s");
        return 0;
    }
}
