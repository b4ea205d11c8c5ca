using CsCheck;
using Peft.Tuners.Training;

namespace Peft.Tuners.Tests.Properties;

/// <summary>
/// A random training checkpoint: trainer state (any step counts, seed, best loss including NaN,
/// infinities and -0, dropout generator states) and named tensors of random shapes whose values
/// and AdamW moments are any float bit patterns (NaN payloads, subnormals, -0 included).
/// </summary>
/// <param name="Keys">Distinct tensor keys ("adapter/parameter"; adapter names are the user's, so any text).</param>
/// <param name="Shapes">A shape per key (rank 1 to 3).</param>
/// <param name="Values">Per key: the parameter values, then the first and the second moments, each of the shape's size.</param>
internal sealed record RandomCheckpoint(TrainingCheckpoint.State State, int OptimizerSteps, string[] Keys, int[][] Shapes, float[][][] Values)
{
    /// <summary>Any float, by its bits.</summary>
    private static readonly Gen<float> AnyFloat = Gen.Frequency<float>(
        (3, Gen.UInt.Select(BitConverter.UInt32BitsToSingle)),
        (2, Gen.Single[-10f, 10f]),
        (1, Gen.OneOf<float>(0f, -0f, float.NaN, float.PositiveInfinity, float.NegativeInfinity, float.Epsilon, -float.Epsilon, float.MaxValue)));

    /// <summary>Any double for the best loss (null: no evaluation yet).</summary>
    private static readonly Gen<double?> BestLoss = Gen.Frequency<double?>(
        (1, Gen.Const<double?>(default(double?))),
        (3, Gen.Double[0, 20].Select(d => (double?)d)),
        (1, Gen.ULong.Select(bits => (double?)BitConverter.UInt64BitsToDouble(bits))),
        (1, Gen.OneOf<double?>(double.NaN, double.PositiveInfinity, double.NegativeInfinity, -0.0, double.Epsilon, double.MaxValue)));

    private static readonly Gen<string> Key =
        Gen.Select(Gen.Char.AlphaNumeric.Array[1, 8], Gen.Char[" ./_-\"\\:{}éß漢字\u0301\u200D"].Array[0, 3],
            (plain, odd) => new string(plain) + new string(odd));

    public static Gen<RandomCheckpoint> Generate { get; } =
        from state in Gen.Select(
            Gen.Select(Gen.Int[0, int.MaxValue], Gen.Int[0, int.MaxValue], Gen.ULong, BestLoss),
            Gen.Select(Gen.Int[0, int.MaxValue].Nullable(), Gen.Long[0, long.MaxValue], Gen.Int[0, 1000],
                Gen.Select(Gen.UInt, Gen.UInt, Gen.UInt, Gen.UInt).List[0, 3]),
            (a, b) => new TrainingCheckpoint.State(a.Item1, a.Item2, a.Item3, a.Item4, b.Item1, b.Item2, b.Item3, b.Item4))
        from optimizerSteps in Gen.Int[0, int.MaxValue]
        from keys in Key.ArrayUnique[1, 4]
        from shapes in Gen.Int[1, 4].Array[1, 3].Array[keys.Length]
        from flat in AnyFloat.Array[3 * shapes.Sum(Size)]
        select new RandomCheckpoint(state, optimizerSteps, keys, shapes, Slice(flat, shapes));

    public static int Size(int[] shape) => shape.Aggregate(1, (n, d) => n * d);

    /// <summary>Cuts one flat draw into per-key (values, first moment, second moment).</summary>
    private static float[][][] Slice(float[] flat, int[][] shapes)
    {
        int at = 0;
        return shapes.Select(shape => Enumerable.Range(0, 3).Select(_ =>
        {
            var part = flat.AsSpan(at, Size(shape)).ToArray();
            at += part.Length;
            return part;
        }).ToArray()).ToArray();
    }

    public override string ToString() =>
        $"RandomCheckpoint {{ State = {State with { }}, RandomStates = [{string.Join(", ", State.RandomStates)}], OptimizerSteps = {OptimizerSteps}, " +
        $"Keys = [{string.Join(", ", Keys.Select(k => System.Text.Json.JsonSerializer.Serialize(k)))}], " +
        $"Shapes = [{string.Join(" ", Shapes.Select(s => "(" + string.Join("x", s) + ")"))}] }}";
}
