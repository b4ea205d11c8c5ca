using System.Runtime.InteropServices;
using Peft.Tensors.Kernels;
using Peft.Tensors.Threading;

namespace Peft.Benchmarks;

/// <summary>
/// Operands of one benchmark shape in native 64-byte aligned memory (so Peft and OpenBLAS see the
/// same buffers), with B stored both ways: [K, N] for x·W and [N, K] (a PyTorch weight) for x·Wᵀ.
/// </summary>
public abstract unsafe class GemmOperands
{
    private float* _a, _b, _bt, _c;

    /// <summary>Rows of x / C.</summary>
    protected int M { get; private set; }

    /// <summary>Inner dimension.</summary>
    protected int K { get; private set; }

    /// <summary>Columns of C.</summary>
    protected int N { get; private set; }

    /// <summary>The [N, K] weight packed once, as Ops.Linear does for a frozen weight.</summary>
    protected PackedMatrix Packed { get; private set; } = null!;

    /// <summary>Allocates and fills the operands and sets both libraries to <paramref name="threads"/> threads.</summary>
    protected void Setup(int m, int k, int n, int threads)
    {
        M = m; K = k; N = n;
        WorkerPool.SetMaxDegree(threads);
        OpenBlas.Initialize(threads);
        _a = Alloc(m * k);
        _b = Alloc(k * n);
        _bt = Alloc(n * k);
        _c = Alloc(m * n);
        Packed = PackedMatrix.Pack(true, k, n, new ReadOnlySpan<float>(_bt, n * k), k);
    }

    /// <summary>Frees the operands.</summary>
    protected void Cleanup()
    {
        NativeMemory.AlignedFree(_a);
        NativeMemory.AlignedFree(_b);
        NativeMemory.AlignedFree(_bt);
        NativeMemory.AlignedFree(_c);
        WorkerPool.SetMaxDegree(Environment.ProcessorCount);
    }

    private static float* Alloc(int count)
    {
        var p = (float*)NativeMemory.AlignedAlloc((nuint)count * sizeof(float), 64);
        var rng = new Random(count);
        for (int i = 0; i < count; i++) p[i] = (float)rng.NextDouble() - 0.5f;
        return p;
    }

    /// <summary>Peft: C = x·W with W stored [K, N].</summary>
    protected void PeftXW() => Gemm.Multiply(false, false, M, N, K, 1f,
        new ReadOnlySpan<float>(_a, M * K), K, new ReadOnlySpan<float>(_b, K * N), N, 0f, new Span<float>(_c, M * N), N);

    /// <summary>Peft: C = x·Wᵀ with W stored [N, K], packed on every call.</summary>
    protected void PeftXWt() => Gemm.Multiply(false, true, M, N, K, 1f,
        new ReadOnlySpan<float>(_a, M * K), K, new ReadOnlySpan<float>(_bt, N * K), K, 0f, new Span<float>(_c, M * N), N);

    /// <summary>Peft: C = x·Wᵀ with the frozen weight pre-packed.</summary>
    protected void PeftXWtPacked() => Gemm.Multiply(false, M, 1f, new ReadOnlySpan<float>(_a, M * K), K, Packed, 0f, new Span<float>(_c, M * N), N);

    /// <summary>OpenBLAS: C = x·W.</summary>
    protected void OpenBlasXW() => OpenBlas.cblas_sgemm(OpenBlas.RowMajor, OpenBlas.NoTrans, OpenBlas.NoTrans, M, N, K, 1f, _a, K, _b, N, 0f, _c, N);

    /// <summary>OpenBLAS: C = x·Wᵀ.</summary>
    protected void OpenBlasXWt() => OpenBlas.cblas_sgemm(OpenBlas.RowMajor, OpenBlas.NoTrans, OpenBlas.Trans, M, N, K, 1f, _a, K, _bt, K, 0f, _c, N);
}
