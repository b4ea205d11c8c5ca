using Peft.Tensors;
using Peft.Transformers.Caching;
using Peft.Transformers.Configuration;
using Peft.Transformers.Modules;

namespace Peft.Transformers.Models.Classification;

/// <summary>
/// A decoder-only model with a classification head, as Hugging Face's
/// <c>*ForSequenceClassification</c>: <c>score</c> [labels, hidden] (no bias) applied to the
/// final hidden state of each row's last real token.
/// </summary>
/// <remarks>
/// HF finds that token from the first pad id in input_ids and, when only embeddings are given
/// (prompt methods), takes the very last position even if it is padding. Here the attention mask
/// decides (its last 1 in each row), which is the same for right-padded id inputs and right for
/// embeddings too.
/// </remarks>
public sealed class SequenceClassificationModel : ILanguageModel
{
    /// <summary>The head's parameter name in Hugging Face checkpoints.</summary>
    public const string ScoreName = "score.weight";

    /// <summary>Wraps <paramref name="backbone"/> with a head: <paramref name="score"/> [labels, hidden], or N(0, 0.02²) seeded (HF's init).</summary>
    /// <exception cref="ArgumentException">Fewer than 2 labels, or a head of the wrong shape.</exception>
    public SequenceClassificationModel(CausalLanguageModel backbone, int numLabels, Tensor? score = null, ulong seed = 0)
    {
        ArgumentNullException.ThrowIfNull(backbone);
        if (numLabels < 2) throw new ArgumentException($"A sequence classifier needs at least 2 labels; got {numLabels}.", nameof(numLabels));
        int hidden = backbone.Config.HiddenSize;
        if (score is not null && (score.Rank != 2 || score.Shape[0] != numLabels || score.Shape[1] != hidden))
            throw new ArgumentException($"score {score.Shape} must be [{numLabels}, {hidden}].", nameof(score));
        Backbone = backbone;
        NumLabels = numLabels;
        Score = score ?? TensorInit.Normal(new Shape(numLabels, hidden), 0, 0.02f, new SeededRandom(seed), ScoreName);
        Score.Name = ScoreName;
    }

    /// <summary>The transformer under the head.</summary>
    public CausalLanguageModel Backbone { get; }

    /// <summary>Number of classes.</summary>
    public int NumLabels { get; }

    /// <summary>The head [labels, hidden].</summary>
    public Tensor Score { get; }

    /// <inheritdoc/>
    public ModelConfig Config => Backbone.Config;

    /// <inheritdoc/>
    public ModelTask TaskType => ModelTask.SequenceClassification;

    /// <inheritdoc/>
    public ParameterSet Parameters => Backbone.Parameters;

    /// <inheritdoc/>
    public IReadOnlyList<LinearLayer> LinearLayers => Backbone.LinearLayers;

    /// <inheritdoc/>
    public Tensor TokenEmbeddings => Backbone.TokenEmbeddings;

    /// <inheritdoc/>
    public Tensor Embed(IntTensor inputIds) => Backbone.Embed(inputIds);

    /// <inheritdoc/>
    public bool GradientCheckpointing
    {
        get => Backbone.GradientCheckpointing;
        set => Backbone.GradientCheckpointing = value;
    }

    /// <summary>Classifies each row.</summary>
    /// <param name="inputIds">Token ids [batch, length], or null when <paramref name="inputEmbeddings"/> are given.</param>
    /// <param name="inputEmbeddings">Input embeddings [batch, length, hidden].</param>
    /// <param name="attentionMask">[batch, prefix + length]; null = all ones (the last position is pooled).</param>
    /// <param name="positionIds">[batch, length] or null (see <see cref="CausalLanguageModel.Forward"/>).</param>
    /// <param name="prefix">Prefix key/values, or null.</param>
    /// <param name="labels">Class per row [batch] (-100 = ignore), or null.</param>
    /// <param name="score">A head to use instead of <see cref="Score"/> (an adapter's own copy).</param>
    public SequenceClassifierOutput Forward(IntTensor? inputIds = null, Tensor? inputEmbeddings = null, IntTensor? attentionMask = null,
        IntTensor? positionIds = null, PrefixKeyValues? prefix = null, IntTensor? labels = null, Tensor? score = null)
    {
        var hidden = Backbone.LastHiddenState(inputIds, inputEmbeddings, attentionMask, positionIds, null, prefix);
        int batch = hidden.Shape[0], length = hidden.Shape[1];
        if (labels is not null && (labels.Shape.Rank != 1 || labels.Shape[0] != batch))
            throw new ArgumentException($"labels {labels.Shape} must be [batch {batch}]: one class per row.", nameof(labels));
        var rows = new Tensor[batch];
        for (int b = 0; b < batch; b++)
            rows[b] = Ops.Reshape(Ops.Slice(Ops.Slice(hidden, 0, b, 1), 1, LastRealPosition(attentionMask, b, length), 1), 1, hidden.Shape[2]);
        var pooled = batch == 1 ? rows[0] : Ops.Concat(rows, 0);
        var logits = Ops.Linear(pooled, score ?? Score);
        Tensor? loss = null;
        if (labels is not null)
        {
            labels.CheckRange("labels", NumLabels, allowed: -100);
            loss = Ops.CrossEntropy(logits, labels, -100);
        }
        return new SequenceClassifierOutput(logits, loss);
    }

    /// <summary>The row's last position whose mask column is 1 (mask columns end with the fed positions).</summary>
    private static int LastRealPosition(IntTensor? mask, int row, int length)
    {
        if (mask is null) return length - 1;
        int columns = mask.Shape[1];
        for (int t = length - 1; t >= 0; t--)
            if (mask.Span[row * columns + columns - length + t] != 0) return t;
        throw new ArgumentException($"attention_mask row {row} has no real token.", nameof(mask));
    }
}
