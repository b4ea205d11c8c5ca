using Peft.Tensors;

namespace Peft.Tuners.Adapters;

/// <summary>
/// HF PEFT's TEXT initialization of virtual tokens: the text's token ids (as the tokenizer gives
/// them, special tokens included), cut to the number of rows or repeated until it fills them,
/// and those rows of the token embedding table copied.
/// </summary>
public static class TextInitialization
{
    /// <summary>Rows [rows, hidden] initialized from <paramref name="text"/>.</summary>
    /// <param name="text">The init text (prompt_tuning_init_text).</param>
    /// <param name="rows">Virtual rows to fill.</param>
    /// <param name="tokenize">The model's tokenizer: text to ids, as HF's <c>tokenizer(text)["input_ids"]</c>.</param>
    /// <param name="tokenEmbeddings">The base model's token embeddings [vocab, hidden].</param>
    /// <param name="field">The config field that names the text (for messages).</param>
    /// <exception cref="AdapterConfigException">No text, no tokenizer, or the text has no tokens.</exception>
    public static float[] Rows(string? text, int rows, Func<string, IReadOnlyList<int>>? tokenize, Tensor tokenEmbeddings,
        string field = "prompt_tuning_init_text")
    {
        ArgumentNullException.ThrowIfNull(tokenEmbeddings);
        if (string.IsNullOrEmpty(text))
            throw new AdapterConfigException($"'prompt_tuning_init' is TEXT but '{field}' is empty; give the text to start from.");
        if (tokenize is null)
            throw new AdapterConfigException($"'prompt_tuning_init' is TEXT: pass the model's tokenizer so '{field}' can be turned into token ids.");
        var ids = tokenize(text);
        if (ids.Count == 0) throw new AdapterConfigException($"'{field}' \"{text}\" has no tokens.");
        int vocab = tokenEmbeddings.Shape[0], dim = tokenEmbeddings.Shape[1];
        var values = new float[rows * dim];
        for (int r = 0; r < rows; r++)
        {
            int id = ids[r % ids.Count];
            if ((uint)id >= (uint)vocab)
                throw new AdapterConfigException($"'{field}': the tokenizer gave id {id}, outside the model's vocabulary of {vocab}.");
            tokenEmbeddings.Span.Slice(id * dim, dim).CopyTo(values.AsSpan(r * dim));
        }
        return values;
    }
}
