using CsCheck;
using Peft.Tensors;

namespace Peft.Tuners.Tests.Properties;

/// <summary>
/// A random float weight [rows, columns] for quantization laws: each row at its own magnitude, from
/// subnormal (1e-44) to near float's largest (1e38), with exact zeros, ties and sign mixes; columns
/// from 1 to past two NF4 blocks of 64, so partial blocks occur.
/// </summary>
internal sealed record RandomWeightMatrix(int Rows, int Columns, float[] Values)
{
    private static readonly Gen<float> Unit = Gen.Frequency<float>(
        (6, Gen.Single[-1f, 1f]),
        (1, Gen.OneOf<float>(0f, -0f, 1f, -1f, 0.5f, -0.5f)));

    /// <summary>Rows of any magnitude, subnormal ones included.</summary>
    public static Gen<RandomWeightMatrix> Generate { get; } = WithRowsFrom(-44);

    /// <summary>Rows of 1e-30 and up: every quantization level times the scale is still a normal float, exact to 24 bits.</summary>
    public static Gen<RandomWeightMatrix> NormalRange { get; } = WithRowsFrom(-30);

    private static Gen<RandomWeightMatrix> WithRowsFrom(int minExponent) =>
        from rows in Gen.Int[1, 4]
        from columns in Gen.Int[1, 150]
        from exponents in Gen.Frequency<int>((3, Gen.Int[-3, 3]), (1, Gen.Int[minExponent, 38])).Array[rows]
        from units in Unit.Array[rows * columns]
        select new RandomWeightMatrix(rows, columns, Scale(units, exponents, columns));

    private static float[] Scale(float[] units, int[] exponents, int columns) =>
        units.Select((u, i) => (float)(u * Math.Pow(10, exponents[i / columns]))).ToArray();

    public Tensor Tensor() => Peft.Tensors.Tensor.FromArray([.. Values], Rows, Columns);

    /// <summary>The shape and each row's first 12 values (enough to see the row's magnitude; the seed reproduces the rest).</summary>
    public override string ToString() =>
        $"RandomWeightMatrix {{ [{Rows}, {Columns}], rows: {string.Join(" | ", Enumerable.Range(0, Rows).Select(Row))} }}";

    private string Row(int r) =>
        string.Join(",", Values.Skip(r * Columns).Take(Math.Min(Columns, 12)).Select(v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture)))
        + (Columns > 12 ? ",…" : "");
}
