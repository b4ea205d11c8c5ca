using Microsoft.ML;
using Peft.Tuners.Training;

namespace Peft.MLNet.Generation;

/// <summary>Reads a generator's training rows through a cursor: each prompt and completion tokenized as it goes.</summary>
internal static class GenerationRows
{
    /// <summary>The rows of <paramref name="data"/>, each made into a training example by <paramref name="example"/>.</summary>
    public static List<TrainingExample> Read(IDataView data, GenerationColumns columns, Func<ReadOnlyMemory<char>, ReadOnlyMemory<char>, TrainingExample> example,
        CancellationToken cancellationToken)
    {
        var prompt = data.Schema[columns.Prompt];
        var completion = data.Schema[columns.Completion];
        var rows = new List<TrainingExample>();
        using var cursor = data.GetRowCursor([prompt, completion]);
        var getPrompt = cursor.GetGetter<ReadOnlyMemory<char>>(prompt);
        var getCompletion = cursor.GetGetter<ReadOnlyMemory<char>>(completion);
        ReadOnlyMemory<char> p = default, c = default;
        long index = 0;
        while (cursor.MoveNext())
        {
            cancellationToken.ThrowIfCancellationRequested();
            getPrompt(ref p);
            getCompletion(ref c);
            try
            {
                rows.Add(example(p, c));
            }
            catch (ArgumentException ex)
            {
                throw new InvalidOperationException($"Row {index} of the data: {ex.Message}", ex);
            }
            index++;
        }
        return rows;
    }
}
