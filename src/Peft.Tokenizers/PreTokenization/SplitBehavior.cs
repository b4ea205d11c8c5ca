namespace Peft.Tokenizers.PreTokenization;

/// <summary>What happens to a matched delimiter (tokenizers' SplitDelimiterBehavior).</summary>
internal enum SplitBehavior
{
    /// <summary>Dropped.</summary>
    Removed,

    /// <summary>A piece of its own.</summary>
    Isolated,

    /// <summary>Joined to the piece before it.</summary>
    MergedWithPrevious,

    /// <summary>Joined to the piece after it.</summary>
    MergedWithNext,

    /// <summary>Consecutive delimiters form one piece.</summary>
    Contiguous,
}
