using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Peft.Tensors.Threading;

namespace Peft.Tensors.Kernels;

/// <summary>
/// An int8 copy (one scale per row) of a frozen float weight W [rows, k] with per-row error coefficients, which bounds
/// every float32 product x·w_j the GEMM would compute while reading a quarter of W's bytes. The input row is quantized
/// to int16 (x̃ = q·s_x), the integer sums T_j = Σ q_k·w8_jk are exact (vpmaddwd), and approx_j = float(T_j·s_x·s_j).
/// Then |computed(x·w_j) − approx_j| ≤ ‖x‖·<see cref="Bound"/>[j] + ‖x − x̃‖·<see cref="CopyBound"/>[j], because
/// <list type="bullet">
/// <item>a float32 dot product of k terms in any order, fused or not (the GEMM's), is within γ‖x‖‖w_j‖ of x·w_j,
/// γ = (k + 2)·u/(1 − (k + 2)·u), u = 2⁻²⁴;</item>
/// <item>|x·w_j − x̃·w̃_j| ≤ ‖x‖‖w_j − w̃_j‖ + ‖x − x̃‖‖w̃_j‖ (Cauchy–Schwarz, w̃_j = w8_j·s_j);</item>
/// <item>x̃·w̃_j is T_j·s_x·s_j exactly, rounded once to float: within u‖x̃‖‖w̃_j‖ ≤ u(‖x‖ + ‖x − x̃‖)‖w̃_j‖.</item>
/// </list>
/// So Bound = ‖w_j − w̃_j‖ + γ‖w_j‖ + u‖w̃_j‖ and CopyBound = (1 + u)‖w̃_j‖, each rounded up. Greedy decoding uses it to
/// find the only rows whose float32 logit can be the largest (<see cref="Ops.LinearArgMax"/>).
/// </summary>
internal sealed unsafe class LogitScreen
{
    private const int Step = 32;

    // A lane of vpmaddwd sums two products of at most 32767·127; Kp / 32 of them must fit an int32 lane.
    private const int MaxColumns = 8192;

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
        CopyBound = new double[rows];
    }

    /// <summary>Rows of W (logits).</summary>
    public int Rows { get; }

    /// <summary>Columns of W.</summary>
    public int K { get; }

    /// <summary>Padded row length of the int8 copy (a multiple of 32; the input is padded with zeros to it).</summary>
    public int Kp { get; }

    /// <summary>Per-row coefficient of ‖x‖ in the bound.</summary>
    public double[] Bound { get; }

    /// <summary>Per-row coefficient of the input's own quantization error ‖x − x̃‖ in the bound.</summary>
    public double[] CopyBound { get; }

    /// <summary>Bytes held (the int8 copy, scales and coefficients).</summary>
    public long ByteSize => _values.LongLength + 4L * _scales.Length + 16L * Rows;

    /// <summary>Gives row <c>row</c> of W in float32.</summary>
    public delegate void RowSource(int row, Span<float> destination);

    /// <summary>What the float32 kernel computes for logit j (the full product's value, bit for bit).</summary>
    public interface IExactLogits
    {
        /// <summary>Starts on the input row whose logits are asked next.</summary>
        void Start(float* row);

        /// <summary>Logit j of that row.</summary>
        float Logit(int j);
    }

    /// <summary>
    /// Rows whose float32 logits may be computed before the screen gives up: a fiftieth of a 50k head, and even as
    /// scattered 32-column slivers of a float head two thirds of its bytes.
    /// </summary>
    public const int MaxCandidates = 1024;

    /// <summary>
    /// Where value (j, c) of the copy is: rows in groups of four, each group's 32-byte steps side by side (step p of rows
    /// 4g..4g+3, then step p + 1), so a pass over four rows reads one sequential stream (four interleaved row streams
    /// ran at a fraction of the DRAM rate); the rows past the last group one after another.
    /// </summary>
    private long Offset(int j, int c)
    {
        int grouped = Rows / 4 * 4;
        if (j >= grouped) return (long)j * Kp + c;
        return (long)(j / 4) * 4 * Kp + (c / Step) * 4 * Step + (j % 4) * Step + c % Step;
    }

    /// <summary>Whether the screen runs here (AVX-512: the only CPUs whose exact products it is matched with).</summary>
    public static bool Supported => Avx512BW.IsSupported && Vector512.IsHardwareAccelerated;

    /// <summary>
    /// The screen of W [rows, k], read row by row, or null when a value is not finite (no bound holds then) or k is
    /// beyond what the exact int32 sums allow.
    /// </summary>
    public static LogitScreen? Build(int rows, int k, RowSource source)
    {
        if (k > MaxColumns || !Supported) return null;
        var screen = new LogitScreen(rows, k);
        // Rows in parallel, each in vectors: 40-55 ms for gpt2-small's head in a fresh process (240 ms scalar).
        var task = new BuildTask(screen, source);
        task.RunAll(rows, unit: 1024);
        return task.Failed ? null : screen;
    }

    /// <summary>Quantizes rows [j0, j1) and sets their scales and bound coefficients; false when a value is not finite.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool BuildRows(int j0, int j1, RowSource source)
    {
        int k = K, kp = Kp;
        double u = Math.ScaleB(1.0, -24), gamma = (k + 2) * u / (1 - (k + 2) * u);
        var row = new float[kp];
        fixed (float* pr = row)
        fixed (sbyte* values = _values)
        {
            for (int j = j0; j < j1; j++)
            {
                source(j, row.AsSpan(0, k));
                // The largest magnitude, and whether any value is infinite or NaN (v − v is NaN exactly then); in place of
                // TensorPrimitives, whose first calls in a fresh process ran unoptimized code for most of this build.
                Vector512<float> largest = default;
                var nonFinite = Vector512<float>.Zero;
                for (int p = 0; p < kp; p += 16)
                {
                    var v = Vector512.Load(pr + p);
                    largest = Vector512.Max(largest, Vector512.Abs(v));
                    nonFinite |= ~Vector512.Equals(v - v, Vector512<float>.Zero);
                }
                if (nonFinite != Vector512<float>.Zero) return false;
                float absMax = 0f;
                for (int lane = 0; lane < 16; lane++) absMax = Math.Max(absMax, largest.GetElement(lane));
                float scale = absMax / 127f;
                float inv = scale == 0f ? 0f : 1f / scale;
                var invV = Vector512.Create(inv);
                var scaleV = Vector512.Create((double)scale);
                Vector512<double> error = default, norm = default, copyNorm = default;
                for (int p = 0; p < kp; p += Step)
                {
                    sbyte* q = values + Offset(j, p);
                    for (int h = 0; h < Step; h += 16)
                    {
                        // Round to nearest even (the default rounding mode), as the scalar MathF.Round would.
                        var v = Vector512.Load(pr + p + h);
                        var value = Vector512.Min(Vector512.Max(Avx512F.ConvertToVector512Int32(v * invV), Vector512.Create(-127)), Vector512.Create(127));
                        Avx512F.ConvertToVector128SByte(value).Store(q + h);
                        Accumulate(Avx512F.ConvertToVector512Double(v.GetLower()), Avx512F.ConvertToVector512Double(value.GetLower()) * scaleV);
                        Accumulate(Avx512F.ConvertToVector512Double(v.GetUpper()), Avx512F.ConvertToVector512Double(value.GetUpper()) * scaleV);
                    }
                }
                _scales[j] = scale;
                // The double sums are exact to ~k·1e-16 relative; the last factors cover them.
                double copy = Math.Sqrt(Vector512.Sum(copyNorm));
                Bound[j] = (Math.Sqrt(Vector512.Sum(error)) + gamma * Math.Sqrt(Vector512.Sum(norm)) + u * copy) * (1 + 1e-9);
                CopyBound[j] = (1 + u) * copy * (1 + 1e-9);

                void Accumulate(Vector512<double> weight, Vector512<double> copy)
                {
                    var difference = weight - copy;
                    error += difference * difference;
                    norm += weight * weight;
                    copyNorm += copy * copy;
                }
            }
        }
        return true;
    }

    /// <summary>
    /// The first maximum of one input row's float32 logits from its approximations, its norm ‖x‖₂ and its quantization
    /// error ‖x − x̃‖₂ (both rounded up; <see cref="ApproximateAll"/>): every logit whose interval reaches the best lower
    /// bound is asked of <paramref name="exact"/>, in increasing j, and the first largest wins, as
    /// <see cref="FirstMaximum.IndexOf"/> would over all of them. −1 when it cannot decide: more than
    /// <see cref="MaxCandidates"/> candidates, or a NaN.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int FirstMaximumOf<TExact>(float* approx, double norm, double quantizationError, ref TExact exact) where TExact : struct, IExactLogits
    {
        // The best lower bound: the float32 maximum is at least this, so a row whose upper bound is below it never is. In
        // double (floats widen exactly), eight rows at a time.
        fixed (double* bounds = Bound, copyBounds = CopyBound)
        {
            int rows = Rows, j = 0;
            var normV = Vector512.Create(norm);
            var errorV = Vector512.Create(quantizationError);
            var floorV = Vector512.Create(double.NegativeInfinity);
            for (; j + 8 <= rows; j += 8)
                floorV = Vector512.Max(floorV, Avx512F.ConvertToVector512Double(Vector256.Load(approx + j))
                    - (normV * Vector512.Load(bounds + j) + errorV * Vector512.Load(copyBounds + j)));
            double floor = double.NegativeInfinity;
            for (int lane = 0; lane < 8; lane++) floor = Math.Max(floor, floorV.GetElement(lane));
            for (; j < rows; j++) floor = Math.Max(floor, approx[j] - Radius(j));
            int best = -1, candidates = 0;
            float bestValue = 0f;
            var floorAll = Vector512.Create(floor);
            for (j = 0; j < rows; j += 8)
            {
                // Eight upper bounds against the floor; the few that reach it are asked for their float32 logits.
                uint reach = 0;
                if (j + 8 <= rows)
                    reach = (uint)Vector512.GreaterThanOrEqual(Avx512F.ConvertToVector512Double(Vector256.Load(approx + j))
                        + (normV * Vector512.Load(bounds + j) + errorV * Vector512.Load(copyBounds + j)), floorAll).ExtractMostSignificantBits();
                else
                    for (int t = j; t < rows; t++)
                        if (approx[t] + Radius(t) >= floor) reach |= 1u << (t - j);
                for (; reach != 0; reach &= reach - 1)
                {
                    int index = j + BitOperations.TrailingZeroCount(reach);
                    if (++candidates > MaxCandidates) return -1;
                    float value = exact.Logit(index);
                    if (float.IsNaN(value)) return -1;
                    if (best < 0 || value > bestValue) { best = index; bestValue = value; }
                }
            }
            return best;
        }

        double Radius(int t) => norm * Bound[t] + quantizationError * CopyBound[t];
    }

    /// <summary>‖x‖₂ of a float row rounded up past the double sum's own error, or −1 when a value is not finite.</summary>
    public static double Norm(ReadOnlySpan<float> x)
    {
        double sum = 0;
        foreach (float v in x)
        {
            if (!float.IsFinite(v)) return -1;
            sum += (double)v * v;
        }
        return Math.Sqrt(sum) * (1 + 1e-9);
    }

    /// <summary>
    /// approx[r·Rows + j] for <paramref name="m"/> (1-4) float rows of x, each <see cref="Kp"/> apart (zero past k), over
    /// every row of the copy on the worker pool; <paramref name="quantizationErrors"/>[r] receives ‖x_r − x̃_r‖₂ (rounded up).
    /// </summary>
    public void ApproximateAll(int m, float* x, float* approx, Span<double> quantizationErrors)
    {
        if ((uint)(m - 1) >= 4) throw new ArgumentOutOfRangeException(nameof(m), $"The screen takes 1 to 4 rows at a time; got {m}.");
        var task = ApproximateTask.ForCurrentThread;
        var q = LinearArgMaxScratch.Int16Rows((long)m * Kp);
        fixed (short* pq = q)
        {
            Span<float> scales = stackalloc float[m];
            for (int r = 0; r < m; r++) quantizationErrors[r] = QuantizeRow(x + (long)r * Kp, pq + (long)r * Kp, out scales[r]);
            task.Screen = this; task.M = m; task.X = pq; task.Approx = approx;
            for (int r = 0; r < m; r++) task.XScales[r] = scales[r];
            task.RunAll(Rows, unit: 256);
            task.Screen = null; task.X = null; task.Approx = null;
        }
    }

    /// <summary>q = round(x / s), s = max|x| / 32767; returns ‖x − q·s‖₂ rounded up (each term is exact in double).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private double QuantizeRow(float* x, short* q, out float scale)
    {
        float absMax = 0f;
        for (int c = 0; c < Kp; c++) absMax = Math.Max(absMax, Math.Abs(x[c]));
        scale = absMax / 32767f;
        float inv = scale == 0f ? 0f : 1f / scale;
        double error = 0;
        for (int c = 0; c < Kp; c++)
        {
            int value = Math.Clamp((int)MathF.Round(x[c] * inv), -32767, 32767);
            q[c] = (short)value;
            double difference = x[c] - (double)value * scale;
            error += difference * difference;
        }
        return Math.Sqrt(error) * (1 + 1e-9);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Approximate<TRows>(short* x, float* xScales, float* approx, int j0, int j1) where TRows : struct, GemmSmallM.IConstant
    {
        int kp = Kp, rows = Rows;
        short* x1 = x + kp, x2 = x + 2 * kp, x3 = x + 3 * kp;
        fixed (sbyte* values = _values)
        fixed (float* scales = _scales)
        {
            // Four weight rows per pass: each x vector feeds four multiply-adds per input row, and one input row still has
            // four independent chains. vpmaddwd sums pairs of int16 products into int32 lanes: exact integers.
            // Chunks start at multiples of their unit (256 rows), so the groups here are the copy's groups and the rows
            // after them are the ones past the last group.
            int j = j0, grouped = Math.Min(j1, rows / 4 * 4);
            for (; j + 4 <= grouped; j += 4)
            {
                sbyte* w0 = values + (long)j * kp, w1 = w0 + Step, w2 = w1 + Step, w3 = w2 + Step;
                Vector512<int> a00 = default, a01 = default, a02 = default, a03 = default, a10 = default, a11 = default, a12 = default, a13 = default,
                    a20 = default, a21 = default, a22 = default, a23 = default, a30 = default, a31 = default, a32 = default, a33 = default;
                for (int p = 0; p < kp; p += Step)
                {
                    int at = 4 * p;
                    var v0 = Widen(w0 + at); var v1 = Widen(w1 + at); var v2 = Widen(w2 + at); var v3 = Widen(w3 + at);
                    var xv = Vector512.Load(x + p);
                    a00 += Avx512BW.MultiplyAddAdjacent(xv, v0); a01 += Avx512BW.MultiplyAddAdjacent(xv, v1);
                    a02 += Avx512BW.MultiplyAddAdjacent(xv, v2); a03 += Avx512BW.MultiplyAddAdjacent(xv, v3);
                    if (TRows.Value > 1)
                    {
                        xv = Vector512.Load(x1 + p);
                        a10 += Avx512BW.MultiplyAddAdjacent(xv, v0); a11 += Avx512BW.MultiplyAddAdjacent(xv, v1);
                        a12 += Avx512BW.MultiplyAddAdjacent(xv, v2); a13 += Avx512BW.MultiplyAddAdjacent(xv, v3);
                    }
                    if (TRows.Value > 2)
                    {
                        xv = Vector512.Load(x2 + p);
                        a20 += Avx512BW.MultiplyAddAdjacent(xv, v0); a21 += Avx512BW.MultiplyAddAdjacent(xv, v1);
                        a22 += Avx512BW.MultiplyAddAdjacent(xv, v2); a23 += Avx512BW.MultiplyAddAdjacent(xv, v3);
                    }
                    if (TRows.Value > 3)
                    {
                        xv = Vector512.Load(x3 + p);
                        a30 += Avx512BW.MultiplyAddAdjacent(xv, v0); a31 += Avx512BW.MultiplyAddAdjacent(xv, v1);
                        a32 += Avx512BW.MultiplyAddAdjacent(xv, v2); a33 += Avx512BW.MultiplyAddAdjacent(xv, v3);
                    }
                }
                Store(approx + j, xScales[0], scales + j, a00, a01, a02, a03);
                if (TRows.Value > 1) Store(approx + rows + j, xScales[1], scales + j, a10, a11, a12, a13);
                if (TRows.Value > 2) Store(approx + 2 * rows + j, xScales[2], scales + j, a20, a21, a22, a23);
                if (TRows.Value > 3) Store(approx + 3 * rows + j, xScales[3], scales + j, a30, a31, a32, a33);
            }
            // The rows past the last group, each stored whole.
            for (; j < j1; j++)
            {
                sbyte* w = values + (long)j * kp;
                for (int r = 0; r < TRows.Value; r++)
                {
                    Vector512<int> a = default;
                    for (int p = 0; p < kp; p += Step) a += Avx512BW.MultiplyAddAdjacent(Vector512.Load(x + r * kp + p), Widen(w + p));
                    approx[r * rows + j] = Scaled(a, xScales[r], scales[j]);
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<short> Widen(sbyte* values) => Avx512BW.ConvertToVector512Int16(Vector256.Load(values));

    /// <summary>float(T·s_x·s_w) with T the lanes' exact total (as 64-bit integers; in double exactly).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Scaled(Vector512<int> lanes, float xScale, float wScale)
    {
        long total = Vector512.Sum(Avx512F.ConvertToVector512Int64(lanes.GetLower()) + Avx512F.ConvertToVector512Int64(lanes.GetUpper()));
        return (float)(total * (double)xScale * wScale);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* approx, float xScale, float* scales, Vector512<int> a0, Vector512<int> a1, Vector512<int> a2, Vector512<int> a3)
    {
        approx[0] = Scaled(a0, xScale, scales[0]);
        approx[1] = Scaled(a1, xScale, scales[1]);
        approx[2] = Scaled(a2, xScale, scales[2]);
        approx[3] = Scaled(a3, xScale, scales[3]);
    }

    /// <summary>Work over the copy's rows in one chunk per thread (chunks start at multiples of <c>unit</c>, itself of four).</summary>
    private abstract class RowChunkTask : ParallelTask
    {
        private int _rows, _chunkSize;

        public void RunAll(int rows, int unit)
        {
            int units = (rows + unit - 1) / unit;
            int chunks = Math.Min(Gemm.ThreadsForCall, units);
            _rows = rows;
            _chunkSize = (units + chunks - 1) / chunks * unit;
            int count = (rows + _chunkSize - 1) / _chunkSize;
            if (count == 1) Execute(0);
            else WorkerPool.Run(this, count);
        }

        public override void Execute(int index)
        {
            int start = index * _chunkSize;
            Run(start, Math.Min(_rows, start + _chunkSize));
        }

        protected abstract void Run(int j0, int j1);
    }

    private sealed class BuildTask(LogitScreen screen, RowSource source) : RowChunkTask
    {
        private volatile bool _failed;

        public bool Failed => _failed;

        protected override void Run(int j0, int j1)
        {
            if (!screen.BuildRows(j0, j1, source)) _failed = true;
        }
    }

    private sealed class ApproximateTask : RowChunkTask
    {
        [ThreadStatic] private static ApproximateTask? t_instance;
        public static ApproximateTask ForCurrentThread => t_instance ??= new ApproximateTask();

        public LogitScreen? Screen;
        public int M;
        public short* X;
        public float* Approx;
        public readonly float[] XScales = new float[4];

        protected override void Run(int start, int end)
        {
            var screen = Screen!;
            fixed (float* scales = XScales)
            {
                switch (M)
                {
                    case 1: screen.Approximate<GemmSmallM.Count1>(X, scales, Approx, start, end); break;
                    case 2: screen.Approximate<GemmSmallM.Count2>(X, scales, Approx, start, end); break;
                    case 3: screen.Approximate<GemmSmallM.Count3>(X, scales, Approx, start, end); break;
                    default: screen.Approximate<GemmSmallM.Count4>(X, scales, Approx, start, end); break;
                }
            }
        }
    }
}
