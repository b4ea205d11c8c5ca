using Peft.Tokenizers;
using Peft.Transformers.Models;
using Peft.Tuners.Training;

namespace Peft.Cli.Data;

/// <summary>
/// Turns examples into the Trainer's token rows for a model kind: completions train on the
/// completion tokens only (the prompt's labels are -100), texts on every token, both ending with
/// the eos id; T5 targets end with eos; classification rows carry their label's index.
/// </summary>
public sealed class ExampleEncoder
{
    private readonly Tokenizer _tokenizer;
    private readonly ModelTask _task;
    private readonly int? _eos;
    private readonly string[]? _labels;

    /// <summary>Creates an encoder for a model of <paramref name="task"/> kind.</summary>
    /// <param name="tokenizer">The model's tokenizer.</param>
    /// <param name="task">The model kind.</param>
    /// <param name="eos">The end-of-sequence id appended to completions, texts and targets, or null for none.</param>
    /// <param name="labels">Class names (index = class id) for classification rows.</param>
    public ExampleEncoder(Tokenizer tokenizer, ModelTask task, int? eos, IReadOnlyList<string>? labels)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        _tokenizer = tokenizer;
        _task = task;
        _eos = eos;
        _labels = labels?.ToArray();
    }

    /// <summary>Checks that a file of <paramref name="kind"/> rows can train or evaluate a model of this kind.</summary>
    public static void CheckFits(ExampleKind kind, ModelTask task, string path)
    {
        string? problem = (kind, task) switch
        {
            (ExampleKind.Text or ExampleKind.Chat, ModelTask.Seq2SeqLM) => "an encoder-decoder (T5) model needs {source, target} or {prompt, completion} rows",
            (ExampleKind.Classification, ModelTask.Seq2SeqLM) => "sequence classification needs a decoder-only model (gpt2, llama, qwen2, mistral)",
            (not ExampleKind.Classification, ModelTask.SequenceClassification) => "a classification adapter needs {text, label} rows",
            _ => null,
        };
        if (problem is not null) throw new UsageException($"{path}: {DataFile.Describe(kind)} rows do not fit this model: {problem}.");
    }

    /// <summary>The token row for <paramref name="example"/>.</summary>
    public TrainingExample Encode(TextExample example)
    {
        ArgumentNullException.ThrowIfNull(example);
        var input = PromptIds(example);
        if (input.Count == 0) throw new UsageException($"{example.Location}: the input text is empty (no tokens).");
        switch (example.Kind)
        {
            case ExampleKind.Classification:
                int label = _labels is null ? -1 : Array.IndexOf(_labels, example.Label);
                if (label < 0)
                    throw new UsageException($"{example.Location}: label '{example.Label}' is not one of the adapter's labels ({string.Join(", ", _labels ?? [])}).");
                return new TrainingExample(input, [label], example.TaskId);
            case ExampleKind.Text:
                return new TrainingExample(WithEos(input), null, example.TaskId);
            case ExampleKind.Chat:
                // The template's end of turn closes the answer: no eos is added.
                var answer = _tokenizer.Encode(example.Target!, addSpecialTokens: false).Ids;
                return new TrainingExample([.. input, .. answer], [.. Enumerable.Repeat(-100, input.Count), .. answer], example.TaskId);
            default:
                if (_task == ModelTask.Seq2SeqLM) return new TrainingExample(input, WithEos(_tokenizer.Encode(example.Target!, addSpecialTokens: true).Ids), example.TaskId);
                var completion = WithEos(_tokenizer.Encode(example.Target!, addSpecialTokens: false).Ids);
                var labels = Enumerable.Repeat(-100, input.Count).Concat(completion).ToArray();
                return new TrainingExample([.. input, .. completion], labels, example.TaskId);
        }
    }

    /// <summary>The ids generation starts from: the input with the tokenizer's special tokens, except for chat rows, whose template wrote them.</summary>
    public IReadOnlyList<int> PromptIds(TextExample example)
    {
        ArgumentNullException.ThrowIfNull(example);
        return _tokenizer.Encode(example.Input, addSpecialTokens: example.Kind != ExampleKind.Chat).Ids;
    }

    /// <summary>The reference answer as generated text reads (a chat turn without its template's special tokens).</summary>
    public string ReferenceText(TextExample example)
    {
        ArgumentNullException.ThrowIfNull(example);
        return example.Kind == ExampleKind.Chat
            ? _tokenizer.Decode(_tokenizer.Encode(example.Target!, addSpecialTokens: false).Ids, skipSpecialTokens: true)
            : example.Target ?? "";
    }

    /// <summary>The reference completion's token count (for how far to generate when scoring).</summary>
    public int TargetTokens(TextExample example)
    {
        ArgumentNullException.ThrowIfNull(example);
        return _tokenizer.Encode(example.Target ?? "", addSpecialTokens: false).Ids.Count;
    }

    private IReadOnlyList<int> WithEos(IReadOnlyList<int> ids) =>
        _eos is int eos && (ids.Count == 0 || ids[^1] != eos) ? [.. ids, eos] : ids;
}
