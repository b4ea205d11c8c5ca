using CsCheck;
using Peft.Tensors;
using Peft.Tuners.Adapters;

namespace Peft.Tuners.Tests.Properties;

/// <summary>
/// A random batch of prompts of different lengths, left-padded to the longest (mask 0 on the
/// padding, as generation of decoder-only models needs), with a task per row and generation settings.
/// </summary>
/// <param name="Rows">The prompts' raw ids (any non-negative ints; mapped into 1..vocab-1, so never the pad id 0).</param>
/// <param name="RowTasks">A task per row (multitask prompt tuning takes it modulo its task count).</param>
/// <param name="MaxNewTokens">Tokens to generate (no eos: every row runs to the end).</param>
/// <param name="Penalized">Greedy with repetition penalty 1.5, so choices depend on more than the top logit.</param>
/// <param name="NextToInput">Virtual tokens go between the left padding and the prompt (else before the padding, as HF PEFT puts them).</param>
internal sealed record RandomPrompts(int[][] Rows, int[] RowTasks, int MaxNewTokens, bool Penalized, bool NextToInput)
{
    public static Gen<RandomPrompts> Generate { get; } =
        from rows in Gen.Int[0, 1000].Array[1, 6].Array[1, 3]
        from tasks in Gen.Int[0, 2].Array[rows.Length]
        from maxNewTokens in Gen.Int[1, 6]
        from penalized in Gen.Bool
        from nextToInput in Gen.Bool
        select new RandomPrompts(rows, tasks, maxNewTokens, penalized, nextToInput);

    public VirtualTokenPlacement Placement => NextToInput ? VirtualTokenPlacement.NextToInput : VirtualTokenPlacement.BeforePadding;

    public int Length => Rows.Max(r => r.Length);

    /// <summary>The ids, [rows, longest], left-padded with 0.</summary>
    public IntTensor Ids(int vocab)
    {
        var ids = new int[Rows.Length * Length];
        for (int b = 0; b < Rows.Length; b++)
            for (int t = 0; t < Rows[b].Length; t++)
                ids[b * Length + Length - Rows[b].Length + t] = 1 + Rows[b][t] % (vocab - 1);
        return IntTensor.FromArray(ids, Rows.Length, Length);
    }

    /// <summary>1 on the prompt, 0 on the left padding.</summary>
    public IntTensor Mask()
    {
        var mask = new int[Rows.Length * Length];
        for (int b = 0; b < Rows.Length; b++)
            for (int t = Length - Rows[b].Length; t < Length; t++) mask[b * Length + t] = 1;
        return IntTensor.FromArray(mask, Rows.Length, Length);
    }

    public override string ToString() =>
        $"RandomPrompts {{ Rows = [{string.Join(" | ", Rows.Select(r => string.Join(",", r)))}], RowTasks = [{string.Join(",", RowTasks)}], " +
        $"MaxNewTokens = {MaxNewTokens}, Penalized = {Penalized}, NextToInput = {NextToInput} }}";
}
