using Peft.Tensors;
using Peft.Transformers.Generation;
using Peft.Transformers.Models;
using Peft.Transformers.Models.Classification;
using Peft.Transformers.Models.T5;

namespace Peft.Tuners.PeftModels;

/// <summary>
/// How a <see cref="PeftModel"/> runs one kind of base model with its adapters' inputs: the
/// forward pass, the training loss (with how many targets it counted) and generation. One
/// implementation per <see cref="ModelTask"/>; PeftModel itself never forks on the kind.
/// </summary>
internal abstract class TaskRunner
{
    /// <summary>The runner for <paramref name="model"/>'s kind; <paramref name="activeHead"/> gives a classifier the head to use.</summary>
    public static TaskRunner For(ILanguageModel model, Func<Tensor?> activeHead) => model switch
    {
        SequenceClassificationModel classifier => new ClassifierRunner(classifier, activeHead),
        CausalLanguageModel causal => new CausalRunner(causal),
        T5Model t5 => new Seq2SeqRunner(t5),
        _ => throw new ArgumentException($"{model.GetType().Name} is not a base model PeftModel can run " +
            $"({string.Join(", ", Enum.GetNames<ModelTask>())}).", nameof(model)),
    };

    /// <summary>The forward pass: logits and, with labels, the loss.</summary>
    public abstract PeftOutput Forward(AdapterInputs adapters, IntTensor inputIds, IntTensor? attentionMask, IntTensor? labels, IntTensor? decoderInputIds);

    /// <summary>The loss of <see cref="Forward"/> for training, and the targets it averaged over.</summary>
    public virtual TargetLoss Loss(AdapterInputs adapters, IntTensor inputIds, IntTensor labels, IntTensor? attentionMask, bool chunked) =>
        new(Forward(adapters, inputIds, attentionMask, labels, null).Loss!, TargetLoss.CountTargets(labels));

    /// <summary>Generates with the (kept) adapter inputs fed by the kind's generation step.</summary>
    public abstract IntTensor Generate(AdapterInputs kept, IntTensor inputIds, IntTensor? attentionMask, GenerationOptions options);

    /// <summary>Streams one row's new ids with the (kept) adapter inputs.</summary>
    public abstract IAsyncEnumerable<int> StreamAsync(AdapterInputs kept, IntTensor inputIds, IntTensor? attentionMask, GenerationOptions options,
        CancellationToken cancellationToken);
}
