namespace Peft.Tokenizers.Normalization;

/// <summary>NFC, NFD, NFKC or NFKD.</summary>
internal sealed class UnicodeNormalizer : INormalizer
{
    private readonly System.Text.NormalizationForm _form;

    public UnicodeNormalizer(System.Text.NormalizationForm form)
    {
        // .NET's invariant globalization mode leaves non-ASCII text unnormalized: fail loudly, not silently.
        if ("e\u0301".Normalize(System.Text.NormalizationForm.FormC) != "\u00E9")
            throw new PlatformNotSupportedException($"This tokenizer normalizes text ({form}), which needs ICU; the process runs with InvariantGlobalization, which lacks it. Turn InvariantGlobalization off.");
        _form = form;
    }

    public string Normalize(string text) => text.Normalize(_form);
}
