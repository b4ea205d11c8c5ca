using Peft.Tensors.Kernels;
using Peft.Tensors.Quantization;

namespace Peft.Tensors.Tests;

/// <summary>What the quantized (and 16-bit) GEMM entry points allocate once warm: the steady-state law every format shares.</summary>
internal static class QuantizedGemmAllocations
{
    /// <summary>
    /// Bytes allocated on this thread by the quietest of five rounds of ten forward and input-gradient products with
    /// <paramref name="q"/> [256, 192] at <paramref name="m"/> rows, after 40 warm-up calls.
    /// </summary>
    public static long Quietest(int m, QuantizedMatrix q)
    {
        var x = GemmTests.RandomArray(new Random(1), m * q.Columns);
        var y = new float[m * q.Rows];
        var dx = new float[m * q.Columns];
        // Past the JIT's tier-up (about 30 calls), whose own bookkeeping can allocate on this thread.
        for (int i = 0; i < 40; i++) Run(m, q, x, y, dx);
        // Tier-up can still land late when the test run keeps both cores busy (its call-counting stubs allocate on this
        // thread once), so take the quietest of several rounds: a kernel that allocated per call would show in every round.
        long quietest = long.MaxValue;
        for (int round = 0; round < 5; round++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 10; i++) Run(m, q, x, y, dx);
            quietest = Math.Min(quietest, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        return quietest;
    }

    private static void Run(int m, QuantizedMatrix q, float[] x, float[] y, float[] dx)
    {
        QuantizedGemm.MultiplyTransposed(m, x, q, y);
        QuantizedGemm.MultiplyAccumulate(m, y, q, dx);
    }
}
