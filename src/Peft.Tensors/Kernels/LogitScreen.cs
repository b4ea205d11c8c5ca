using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Peft.Tensors.Threading;

namespace Peft.Tensors.Kernels;

/// <summary>
/// An int8 copy (one scale per row) of a frozen float weight W [rows, k], with per-row error coefficients, that bounds
/// every float32 product x·w_j the GEMM would compute: |computed(x·w_j) − approx_j| ≤ ‖x‖₂·<see cref="Bound"/>[j], where
/// approx_j = (Σ_k x_k·q_jk)·s_j is read from a quarter of W's bytes. The coefficient is
/// ‖w_j − w̃_j‖₂ + γ·(‖w_j‖₂ + ‖w̃_j‖₂) with w̃_j = q_j·s_j and γ = (k + 2)·u/(1 − (k + 2)·u), u = 2⁻²⁴: by
/// Cauchy–Schwarz |x·w_j − x·w̃_j| ≤ ‖x‖‖w_j − w̃_j‖, and a float32 dot product of k terms in any order, fused or not
/// (the GEMM's, and this copy's before and after its one scaling), is within γ·Σ|x_k·v_k| ≤ γ‖x‖‖v‖ of the exact one.
/// Greedy decoding uses it to find the only rows whose float32 logit can be the largest (<see cref="Ops.LinearArgMax"/>).
/// </summary>
internal sealed unsafe class LogitScreen
{
    private const int Step = 16;
    private readonly sbyte[] _values;
    private readonly float[] _scales;

    private LogitScreen(int rows, int k)
    {
        Rows = rows;
        K = k;
        Kp = (k + Step - 1) / Step * Step;
        _values = new sbyte[(long)rows * Kp];
        _scales = new float[rows];
        Bound = new double[rows];
    }

    /// <summary>Rows of W (logits).</summary>
    public int Rows { get; }

    /// <summary>Columns of W.</summary>
    public int K { get; }

    /// <summary>Padded row length of the int8 copy (a multiple of 16; the input is padded with zeros to it).</summary>
    public int Kp { get; }

    /// <summary>Per-row coefficient c_j: |computed(x·w_j) − approx_j| ≤ ‖x‖₂·c_j.</summary>
    public double[] Bound { get; }

    /// <summary>Bytes held (the int8 copy, scales and coefficients).</summary>
    public long ByteSize => _values.LongLength + 4L * _scales.Length + 8L * Bound.Length;

    /// <summary>The screen of W [rows, k] row-major, or null when a value is not finite (no bound holds then).</summary>
    public static LogitScreen? Build(ReadOnlySpan<float> w, int rows, int k)
    {
        var screen = new LogitScreen(rows, k);
        double u = Math.ScaleB(1.0, -24), gamma = (k + 2) * u / (1 - (k + 2) * u);
        for (int j = 0; j < rows; j++)
        {
            var row = w.Slice(j * k, k);
            float absMax = 0f;
            foreach (float v in row)
            {
                if (!float.IsFinite(v)) return null;
                absMax = Math.Max(absMax, Math.Abs(v));
            }
            float scale = absMax / 127f;
            float inv = scale == 0f ? 0f : 1f / scale;
            var q = screen._values.AsSpan(j * screen.Kp, k);
            double error = 0, norm = 0, copyNorm = 0;
            for (int c = 0; c < k; c++)
            {
                int value = Math.Clamp((int)MathF.Round(row[c] * inv), -127, 127);
                q[c] = (sbyte)value;
                double copy = (double)value * scale;
                error += (row[c] - copy) * (row[c] - copy);
                norm += (double)row[c] * row[c];
                copyNorm += copy * copy;
            }
            screen._scales[j] = scale;
            // The double sums are exact to ~k·1e-16 relative; the last factor covers them.
            screen.Bound[j] = (Math.Sqrt(error) + gamma * (Math.Sqrt(norm) + Math.Sqrt(copyNorm))) * (1 + 1e-9);
        }
        return screen;
    }

    /// <summary>
    /// approx[r·Rows + j] = (Σ_k x[r, k]·q_jk)·s_j for <paramref name="m"/> (1-4) rows of x, each <see cref="Kp"/> floats
    /// (zero past k), over rows [<paramref name="j0"/>, <paramref name="j1"/>) of the copy.
    /// </summary>
    public void Approximate(int m, float* x, float* approx, int j0, int j1)
    {
        switch (m)
        {
            case 1: Approximate<GemmSmallM.Count1>(x, approx, j0, j1); break;
            case 2: Approximate<GemmSmallM.Count2>(x, approx, j0, j1); break;
            case 3: Approximate<GemmSmallM.Count3>(x, approx, j0, j1); break;
            case 4: Approximate<GemmSmallM.Count4>(x, approx, j0, j1); break;
            default: throw new ArgumentOutOfRangeException(nameof(m), $"The screen takes 1 to 4 rows at a time; got {m}.");
        }
    }

    /// <summary>Whether <see cref="Approximate"/> runs here (AVX-512: the only CPUs whose exact products it is matched with).</summary>
    public static bool Supported => Avx512F.IsSupported && Vector512.IsHardwareAccelerated;

    /// <summary>Runs <see cref="Approximate"/> over all rows of the copy on the worker pool.</summary>
    public void ApproximateAll(int m, float* x, float* approx)
    {
        var task = ApproximateTask.ForCurrentThread;
        task.Screen = this; task.M = m; task.X = x; task.Approx = approx;
        const int unit = 256;
        int units = (Rows + unit - 1) / unit;
        int chunks = Math.Min(Gemm.ThreadsForCall, units);
        task.ChunkSize = (units + chunks - 1) / chunks * unit;
        int count = (Rows + task.ChunkSize - 1) / task.ChunkSize;
        if (count == 1) task.Execute(0);
        else WorkerPool.Run(task, count);
        task.Screen = null; task.X = null; task.Approx = null;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Approximate<TRows>(float* x, float* approx, int j0, int j1) where TRows : struct, GemmSmallM.IConstant
    {
        int kp = Kp, rows = Rows;
        float* x1 = x + kp, x2 = x + 2 * kp, x3 = x + 3 * kp;
        fixed (sbyte* values = _values)
        fixed (float* scales = _scales)
        {
            // Two weight rows per pass, so each x vector feeds two multiply-adds per row and every chain has a partner.
            int j = j0;
            for (; j + 2 <= j1; j += 2)
            {
                sbyte* w0 = values + (long)j * kp, w1 = w0 + kp;
                Vector512<float> a0 = default, b0 = default, a1 = default, b1 = default, a2 = default, b2 = default, a3 = default, b3 = default;
                for (int p = 0; p < kp; p += Step)
                {
                    var v0 = Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(Vector128.Load(w0 + p)));
                    var v1 = Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(Vector128.Load(w1 + p)));
                    var xv = Vector512.Load(x + p);
                    a0 = Avx512F.FusedMultiplyAdd(xv, v0, a0); b0 = Avx512F.FusedMultiplyAdd(xv, v1, b0);
                    if (TRows.Value > 1) { xv = Vector512.Load(x1 + p); a1 = Avx512F.FusedMultiplyAdd(xv, v0, a1); b1 = Avx512F.FusedMultiplyAdd(xv, v1, b1); }
                    if (TRows.Value > 2) { xv = Vector512.Load(x2 + p); a2 = Avx512F.FusedMultiplyAdd(xv, v0, a2); b2 = Avx512F.FusedMultiplyAdd(xv, v1, b2); }
                    if (TRows.Value > 3) { xv = Vector512.Load(x3 + p); a3 = Avx512F.FusedMultiplyAdd(xv, v0, a3); b3 = Avx512F.FusedMultiplyAdd(xv, v1, b3); }
                }
                float s0 = scales[j], s1 = scales[j + 1];
                approx[j] = Vector512.Sum(a0) * s0; approx[j + 1] = Vector512.Sum(b0) * s1;
                if (TRows.Value > 1) { approx[rows + j] = Vector512.Sum(a1) * s0; approx[rows + j + 1] = Vector512.Sum(b1) * s1; }
                if (TRows.Value > 2) { approx[2 * rows + j] = Vector512.Sum(a2) * s0; approx[2 * rows + j + 1] = Vector512.Sum(b2) * s1; }
                if (TRows.Value > 3) { approx[3 * rows + j] = Vector512.Sum(a3) * s0; approx[3 * rows + j + 1] = Vector512.Sum(b3) * s1; }
            }
            for (; j < j1; j++)
            {
                sbyte* w0 = values + (long)j * kp;
                for (int r = 0; r < TRows.Value; r++)
                {
                    Vector512<float> a = default;
                    for (int p = 0; p < kp; p += Step)
                        a = Avx512F.FusedMultiplyAdd(Vector512.Load(x + r * kp + p),
                            Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(Vector128.Load(w0 + p))), a);
                    approx[r * rows + j] = Vector512.Sum(a) * scales[j];
                }
            }
        }
    }

    private sealed class ApproximateTask : ParallelTask
    {
        [ThreadStatic] private static ApproximateTask? t_instance;
        public static ApproximateTask ForCurrentThread => t_instance ??= new ApproximateTask();

        public LogitScreen? Screen;
        public int M, ChunkSize;
        public float* X, Approx;

        public override void Execute(int index)
        {
            int start = index * ChunkSize;
            Screen!.Approximate(M, X, Approx, start, Math.Min(Screen.Rows, start + ChunkSize));
        }
    }
}
