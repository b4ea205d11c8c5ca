using Peft.Tensors.Kernels;

namespace Peft.Tensors.Tests;

/// <summary>MatrixTranspose against its definition, and the packing that shares its 8×8 blocks.</summary>
[TestClass]
public sealed class MatrixTransposeTests
{
    [TestMethod]
    // Vector blocks with scalar edges, one piece, several 64-row pieces with a partial last one, and a wide matrix.
    [DataRow(1, 1)]
    [DataRow(3, 5)]
    [DataRow(8, 8)]
    [DataRow(13, 29)]
    [DataRow(64, 1024)]
    [DataRow(200, 777)]
    [DataRow(768, 2304)]
    [DataRow(1030, 70)]
    public void EveryElementLandsAtItsTransposedIndex(int rows, int columns)
    {
        var source = new float[rows * columns];
        for (int i = 0; i < source.Length; i++) source[i] = i;   // exact in float up to 2^24
        var destination = new float[source.Length];
        destination.AsSpan().Fill(float.NaN);
        MatrixTranspose.Transpose(source, rows, columns, destination);
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < columns; c++)
                if (destination[c * rows + r] != source[r * columns + c])
                    Assert.Fail($"{rows}x{columns}: destination[{c}, {r}] is {destination[c * rows + r]}, expected {source[r * columns + c]}");
    }

    [TestMethod]
    public void RejectsWrongLengthsAndOverlap()
    {
        var ex = Assert.ThrowsExactly<ArgumentException>(() => MatrixTranspose.Transpose(new float[6], 2, 4, new float[8]));
        StringAssert.Contains(ex.Message, "2 × 4 = 8");
        Assert.ThrowsExactly<ArgumentException>(() => MatrixTranspose.Transpose(new float[8], 2, 4, new float[6]));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => MatrixTranspose.Transpose([], -1, 0, []));
        var shared = new float[16];
        Assert.ThrowsExactly<ArgumentException>(() => MatrixTranspose.Transpose(shared.AsSpan(0, 8), 2, 4, shared.AsSpan(4, 8)));
    }

    [TestMethod]
    // Several depth blocks and sliver runs with a partial last sliver, B as stored and transposed.
    [DataRow(false, 700, 1000)]
    [DataRow(true, 700, 1000)]
    [DataRow(true, 768, 2304)]
    [DataRow(false, 300, 257)]
    public unsafe void ParallelPackingLaysOutTheSameFloatsAsOneThread(bool transposed, int k, int n)
    {
        var rng = new Random(k + n);
        var b = GemmTests.RandomArray(rng, k * n);
        int ldb = transposed ? k : n;
        var packed = PackedMatrix.Pack(transposed, k, n, b, ldb);
        long floats = PackedMatrix.PackedFloats(k, n, packed.Isa);
        var serial = GC.AllocateUninitializedArray<float>((int)floats + 16, pinned: true);
        fixed (float* start = serial)
        fixed (float* src = b)
        {
            float* aligned = (float*)(((nint)start + 63) & ~(nint)63);
            new Span<float>(aligned, (int)floats).Fill(float.NaN);
            PackedMatrix.PackInto(transposed, k, n, src, ldb, aligned, packed.Isa);
            var expected = new ReadOnlySpan<float>(aligned, (int)floats);
            var actual = new ReadOnlySpan<float>(packed.Data, (int)floats);
            // The last depth block keeps the full block's sliver stride: floats past its depth are padding no kernel
            // reads, which neither path writes (still NaN in the serial copy).
            for (int i = 0; i < expected.Length; i++)
                if (!float.IsNaN(expected[i]) && BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
                    Assert.Fail($"transposed={transposed} {k}x{n}: packed float {i} is {actual[i]}, one thread wrote {expected[i]}");
        }
    }
}
