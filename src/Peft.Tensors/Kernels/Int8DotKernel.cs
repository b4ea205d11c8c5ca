// AVX-VNNI is a preview API on .NET 8: that target uses the dequantized-tile path for int8 instead.
#if NET9_0_OR_GREATER
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Peft.Tensors.Kernels;

/// <summary>
/// int8 × int8 products in exact int32 arithmetic. Activations are quantized per row to int8 and
/// offset by +128 into uint8; the offset's contribution, 128 · Σ_k w[n, k], is subtracted using row
/// sums precomputed with the weight. The multiply-add is vpdpbusd (uint8 × int8 → int32): on 512-bit registers
/// through a tile kernel assembled at start-up where the CPU has AVX512-VNNI (Zen 4 and later, Ice Lake and later
/// Xeons: .NET exposes no EVEX vpdpbusd there, see <see cref="Int8VnniTileKernel"/>), else AVX-VNNI's 256-bit form
/// (Alder Lake and later, even without AVX-512), else vpmaddwd on both operands widened to int16, 512-bit with
/// AVX-512BW or 256-bit with AVX2: the same integers every way.
/// </summary>
internal static unsafe class Int8DotKernel
{
    /// <summary>Bytes per multiply-add step.</summary>
    public const int Step = 32;

    /// <summary>
    /// Quantizes rows of x [m, k] to xq [m, kp] (uint8, value + 128, padding 128) with per-row
    /// scales absmax/127 in <paramref name="scales"/>. With <paramref name="corrections"/> (the panel kernel's form) the
    /// bytes are the int8 values themselves (padding 0) and corrections[i] = 128·Σ_k xq[i, k].
    /// </summary>
    public static void QuantizeRows(int m, int k, int kp, float* x, int ldx, byte* xq, float* scales, int* corrections = null) =>
        QuantizeRows(m, k, kp, x, ldx, xq, scales, corrections, QuantizesWide);

    /// <summary>
    /// Whether the current thread's quantization takes the 512-bit loop: the 256-bit step's machines (AVX2 only) take
    /// the AVX2 loop, and a forced 256-bit step does too, so tests reach it. Read on the calling thread, so a forced step
    /// reaches the workers that quantize its rows.
    /// </summary>
    public static bool QuantizesWide => Avx512F.IsSupported && ActiveStep != Int8DotStep.Widening256;

    /// <summary><see cref="QuantizeRows(int, int, int, float*, int, byte*, float*, int*)"/> with the loop width chosen by the caller.</summary>
    public static void QuantizeRows(int m, int k, int kp, float* x, int ldx, byte* xq, float* scales, int* corrections, bool wide)
    {
        bool signed = corrections != null;
        int offset = signed ? 0 : 128;
        for (int i = 0; i < m; i++)
        {
            float* row = x + (long)i * ldx;
            byte* q = xq + (long)i * kp;
            float absMax = System.Numerics.Tensors.TensorPrimitives.MaxMagnitude(new ReadOnlySpan<float>(row, k));
            absMax = Math.Abs(absMax);
            float scale = absMax / 127f;
            scales[i] = scale;
            float inv = scale == 0f || !float.IsFinite(scale) ? 0f : 1f / scale;
            int c = 0, sum = 0;
            if (wide)
            {
                var invV = Vector512.Create(inv);
                var offsetV = Vector512.Create(offset);
                var sums = Vector512<int>.Zero;
                for (; c + 16 <= k; c += 16)
                {
                    // Round to nearest even (the default rounding mode), shift into [1, 255] unless signed, narrow (the low
                    // byte of each lane: a signed value's two's complement).
                    var v = Avx512F.ConvertToVector512Int32(Vector512.Load(row + c) * invV);
                    sums += v;
                    Vector128.Store(Avx512F.ConvertToVector128Byte(v + offsetV), q + c);
                }
                sum = Vector512.Sum(sums);
            }
            if (Avx2.IsSupported)
            {
                var invV = Vector256.Create(inv);
                var offsetV = Vector256.Create(offset);
                var sums = Vector256<int>.Zero;
                for (; c + 32 <= k; c += 32)
                {
                    // The same rounding as above; values in [1, 255] (or [-127, 127]) narrow to their low bytes.
                    var a = Avx.ConvertToVector256Int32(Vector256.Load(row + c) * invV);
                    var b = Avx.ConvertToVector256Int32(Vector256.Load(row + c + 8) * invV);
                    var d = Avx.ConvertToVector256Int32(Vector256.Load(row + c + 16) * invV);
                    var e = Avx.ConvertToVector256Int32(Vector256.Load(row + c + 24) * invV);
                    sums += a + b + d + e;
                    var low = Vector256.Narrow(a + offsetV, b + offsetV).AsUInt16();
                    var high = Vector256.Narrow(d + offsetV, e + offsetV).AsUInt16();
                    Vector256.Store(Vector256.Narrow(low, high), q + c);
                }
                sum += Vector256.Sum(sums);
            }
            for (; c < k; c++)
            {
                int value = Math.Clamp((int)MathF.Round(row[c] * inv), -127, 127);
                sum += value;
                q[c] = (byte)(value + offset);
            }
            for (; c < kp; c++) q[c] = (byte)offset;
            if (signed) corrections[i] = 128 * sum;
        }
    }

    /// <summary>Whether some multiply-add step runs here (AVX2 at least).</summary>
    public static bool Supported => Avx2.IsSupported;

    /// <summary>A step for tests to force on the current thread (null: the fastest the CPU has).</summary>
    [ThreadStatic] internal static Int8DotStep? t_forcedStep;

    /// <summary>The fastest step this CPU runs: 512-bit vpdpbusd, else 256-bit vpdpbusd, else 512-bit widening, else 256-bit widening.</summary>
    internal static Int8DotStep BestStep =>
        Int8VnniTileKernel.IsAvailable ? Int8DotStep.Vnni512
        : AvxVnni.IsSupported ? Int8DotStep.Vnni
        : Avx512BW.IsSupported && Vector512.IsHardwareAccelerated ? Int8DotStep.Widening512 : Int8DotStep.Widening256;

    /// <summary>The step calls from the current thread use.</summary>
    internal static Int8DotStep ActiveStep => t_forcedStep ?? BestStep;

    /// <summary>Whether <paramref name="step"/> can run on this CPU.</summary>
    internal static bool CanRun(Int8DotStep step) => step switch
    {
        Int8DotStep.Vnni512 => Int8VnniTileKernel.IsAvailable,
        Int8DotStep.Vnni => AvxVnni.IsSupported,
        Int8DotStep.Widening512 => Avx512BW.IsSupported && Vector512.IsHardwareAccelerated,
        _ => Avx2.IsSupported,
    };

    /// <summary>
    /// Rows from which the AVX512-VNNI step runs the broadcast-form panel kernel (<see cref="Int8VnniPanelKernel"/>), whose
    /// per-call repacking of the weights pays off only over enough rows; fewer (decoding) take the dot-form tiles. On Zen 4
    /// the panels were ahead from 32 rows at one thread and from 16 at two (the dot tiles scale worse), behind at 8.
    /// </summary>
    internal const int PanelMinRows = 32;

    /// <summary>Whether <paramref name="m"/> rows with <paramref name="step"/> go through the panel kernel (activations quantized with corrections).</summary>
    internal static bool UsesPanels(Int8DotStep step, int m) => step == Int8DotStep.Vnni512 && m >= PanelMinRows && Int8VnniPanelKernel.IsAvailable;

    /// <summary>
    /// The panel kernel's y[i, j] for rows [0, m) and weight rows [n0, n1): activations xq as int8 with their
    /// <paramref name="corrections"/> (<see cref="QuantizeRows(int, int, int, float*, int, byte*, float*, int*)"/>), the same floats as <see cref="Multiply"/>. Each panel of
    /// up to 64 weight rows is packed once and then meets every activation row, six at a time. With
    /// <paramref name="rowBias"/> each row of a tile gets bias[j] added as soon as the tile is written, while it is in L1
    /// (a pass over the chunk afterwards read it back from beyond L2: 3.9 % of an int8 prompt pass's samples).
    /// </summary>
    public static void MultiplyPanels(int m, int kp, sbyte* xq, int* corrections, float* xScale, sbyte* w, float* wScale,
        int n0, int n1, float* y, int ldy, float* rowBias = null)
    {
        const int rowsPerCall = Int8VnniPanelKernel.MaxRows, panelColumns = Int8VnniPanelKernel.PanelColumns;
        var panelBuffer = QuantizedScratch.Panel(Int8VnniPanelKernel.PanelBytes(kp, Int8VnniPanelKernel.MaxVectors));
        var tail = QuantizedScratch.PanelTail((rowsPerCall + 1) * panelColumns);
        fixed (byte* panel = panelBuffer)
        fixed (float* tailY = tail)
        {
            float* tailScales = tailY + rowsPerCall * panelColumns;
            Int8VnniPanelKernel.Arguments arguments = default;
            arguments.Kp = kp;
            arguments.Panel = panel;
            for (int j = n0; j < n1; j += panelColumns)
            {
                int columns = Math.Min(panelColumns, n1 - j);
                int vectors = (columns + Int8VnniPanelKernel.VectorColumns - 1) / Int8VnniPanelKernel.VectorColumns;
                // A panel whose columns end inside a vector computes into scratch with zero-padded scales, then copies.
                bool whole = columns == vectors * Int8VnniPanelKernel.VectorColumns;
                Int8VnniPanelKernel.Pack(w + (long)j * kp, kp, columns, vectors, panel);
                if (whole) arguments.WScales = wScale + j;
                else
                {
                    new ReadOnlySpan<float>(wScale + j, columns).CopyTo(new Span<float>(tailScales, panelColumns));
                    new Span<float>(tailScales + columns, panelColumns - columns).Clear();
                    arguments.WScales = tailScales;
                }
                for (int i = 0; i < m; i += rowsPerCall)
                {
                    int rows = Math.Min(rowsPerCall, m - i);
                    arguments.X = xq + (long)i * kp;
                    arguments.XCorrections = corrections + i;
                    arguments.XScales = xScale + i;
                    arguments.Y = whole ? y + (long)i * ldy + j : tailY;
                    arguments.LdyBytes = sizeof(float) * (whole ? (long)ldy : panelColumns);
                    Int8VnniPanelKernel.Run(rows, vectors, &arguments);
                    if (!whole)
                        for (int r = 0; r < rows; r++)
                            new ReadOnlySpan<float>(tailY + r * panelColumns, columns).CopyTo(new Span<float>(y + (long)(i + r) * ldy + j, columns));
                    if (rowBias != null) GemmTask.AddRowBias(rowBias, y, ldy, i, i + rows, j, j + columns);
                }
            }
        }
    }

    /// <summary>
    /// y[i, j] = (Σ_k xq[i, k]·w[j, k] − 128·rowSum[j]) · xScale[i] · wScale[j] for rows [0, m) and
    /// weight rows [n0, n1) with the given multiply-add step; kp (a multiple of 32) is the padded row
    /// length of xq and w.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply(Int8DotStep step, int m, int kp, byte* xq, float* xScale, sbyte* w, float* wScale, int* rowSums,
        int n0, int n1, float* y, int ldy)
    {
        switch (step)
        {
            case Int8DotStep.Vnni512:
                // Full 4 × 4 tiles through the assembled kernel; one activation row, and rows and columns that do not fill a
                // tile, through the 512-bit widening step (the same integers).
                Multiply<WideningStep512, Vector512<short>, Vector512<short>, Vector512<int>>(m, kp, xq, xScale, w, wScale, rowSums, n0, n1, y, ldy,
                    vnniTiles: true);
                break;
            case Int8DotStep.Vnni:
                Multiply<VnniStep, Vector256<byte>, Vector256<sbyte>, Vector256<int>>(m, kp, xq, xScale, w, wScale, rowSums, n0, n1, y, ldy);
                break;
            case Int8DotStep.Widening512:
                Multiply<WideningStep512, Vector512<short>, Vector512<short>, Vector512<int>>(m, kp, xq, xScale, w, wScale, rowSums, n0, n1, y, ldy);
                break;
            default:
                Multiply<WideningStep256, Halves, Halves, Vector256<int>>(m, kp, xq, xScale, w, wScale, rowSums, n0, n1, y, ldy);
                break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Multiply<TStep, TX, TW, TAcc>(int m, int kp, byte* xq, float* xScale, sbyte* w, float* wScale, int* rowSums,
        int n0, int n1, float* y, int ldy, bool vnniTiles = false)
        where TStep : struct, IStep<TX, TW, TAcc> where TX : struct where TW : struct where TAcc : struct
    {
        if (m == 1)
        {
            // One activation row is bound by reading W: one weight row after another is a single sequential stream, which
            // the hardware prefetcher follows best (four interleaved rows of kp bytes ran well below the DRAM rate).
            for (int j = n0; j < n1; j++) y[j] = Row<TStep, TX, TW, TAcc>(kp, xq, xScale[0], w + (long)j * kp, wScale[j], rowSums[j]);
            return;
        }
        // Blocks of rows small enough that their quantized activations stay in L1/L2 while every weight row passes.
        const int rowBlock = 64;
        int* totals = stackalloc int[rowBlock / 4 * Int8VnniTileKernel.Totals];
        for (int i0 = 0; i0 < m; i0 += rowBlock)
        {
            int i1 = Math.Min(m, i0 + rowBlock);
            // The block's full groups of four rows go through the assembled kernel in one call per four weight rows.
            int groups = vnniTiles ? (i1 - i0) / 4 : 0;
            int j = n0;
            for (; j + 4 <= n1; j += 4)
            {
                if (groups > 0)
                {
                    Int8VnniTileKernel.Run(xq + (long)i0 * kp, w + (long)j * kp, kp, totals, groups);
                    for (int g = 0; g < groups; g++)
                    {
                        int i = i0 + 4 * g;
                        StoreVnniTile(totals + g * Int8VnniTileKernel.Totals, rowSums + j, xScale + i, wScale + j, y + (long)i * ldy + j, ldy);
                    }
                }
                for (int i = i0 + 4 * groups; i < i1; i += 4)
                    Tile<GemmSmallM.Count4, TStep, TX, TW, TAcc>(Math.Min(4, i1 - i), kp, xq + (long)i * kp, xScale + i, w + (long)j * kp, wScale + j,
                        rowSums + j, y + (long)i * ldy + j, ldy);
            }
            for (; j < n1; j++)
                for (int i = i0; i < i1; i += 4)
                    Tile<GemmSmallM.Count1, TStep, TX, TW, TAcc>(Math.Min(4, i1 - i), kp, xq + (long)i * kp, xScale + i, w + (long)j * kp, wScale + j,
                        rowSums + j, y + (long)i * ldy + j, ldy);
        }
    }

    /// <summary>
    /// y[r, c] = (totals[4r + c] − 128·rowSums[c]) · xScale[r] · wScale[c] for a 4 × 4 tile, as <see cref="Store"/> scales
    /// (the same float operations in the same order), four rows in one vector.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreVnniTile(int* totals, int* rowSums, float* xScale, float* wScale, float* y, int ldy)
    {
        var corrected = Vector512.Load(totals) - Repeat4(Vector128.Load(rowSums) * 128);
        var scaled = Avx512F.ConvertToVector512Single(corrected)
            * Vector512.Create(Vector256.Create(Vector128.Create(xScale[0]), Vector128.Create(xScale[1])),
                Vector256.Create(Vector128.Create(xScale[2]), Vector128.Create(xScale[3])))
            * Repeat4(Vector128.Load(wScale));
        scaled.GetLower().GetLower().Store(y);
        scaled.GetLower().GetUpper().Store(y + ldy);
        scaled.GetUpper().GetLower().Store(y + 2L * ldy);
        scaled.GetUpper().GetUpper().Store(y + 3L * ldy);

        static Vector512<T> Repeat4<T>(Vector128<T> v) => Vector512.Create(Vector256.Create(v, v), Vector256.Create(v, v));
    }

    private static void Tile<TCols, TStep, TX, TW, TAcc>(int rows, int kp, byte* x, float* xs, sbyte* w, float* ws, int* sums, float* y, int ldy)
        where TCols : struct, GemmSmallM.IConstant
        where TStep : struct, IStep<TX, TW, TAcc> where TX : struct where TW : struct where TAcc : struct
    {
        switch (rows)
        {
            case 1: Dot<GemmSmallM.Count1, TCols, TStep, TX, TW, TAcc>(kp, x, xs, w, ws, sums, y, ldy); break;
            case 2: Dot<GemmSmallM.Count2, TCols, TStep, TX, TW, TAcc>(kp, x, xs, w, ws, sums, y, ldy); break;
            case 3: Dot<GemmSmallM.Count3, TCols, TStep, TX, TW, TAcc>(kp, x, xs, w, ws, sums, y, ldy); break;
            default: Dot<GemmSmallM.Count4, TCols, TStep, TX, TW, TAcc>(kp, x, xs, w, ws, sums, y, ldy); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Dot<TRows, TCols, TStep, TX, TW, TAcc>(int kp, byte* x, float* xs, sbyte* w, float* ws, int* sums, float* y, int ldy)
        where TRows : struct, GemmSmallM.IConstant where TCols : struct, GemmSmallM.IConstant
        where TStep : struct, IStep<TX, TW, TAcc> where TX : struct where TW : struct where TAcc : struct
    {
        TAcc s00 = default, s01 = default, s02 = default, s03 = default, s10 = default, s11 = default, s12 = default, s13 = default,
            s20 = default, s21 = default, s22 = default, s23 = default, s30 = default, s31 = default, s32 = default, s33 = default;
        TX x0, x1, x2, x3;
        TW w0, w1 = default, w2 = default, w3 = default;
        for (int p = 0; p < kp; p += Step)
        {
            w0 = TStep.LoadW(w + p);
            if (TCols.Value > 1)
            {
                w1 = TStep.LoadW(w + kp + p); w2 = TStep.LoadW(w + 2 * kp + p); w3 = TStep.LoadW(w + 3 * kp + p);
                // The next four weight rows, as far ahead as this tile's pass over its own: four interleaved row streams
                // are more than the hardware prefetcher follows, and batch-8 decoding read its int8 weights at ~7 GB/s.
                sbyte* next = w + 4 * kp + p;
                Sse.Prefetch0(next); Sse.Prefetch0(next + kp); Sse.Prefetch0(next + 2 * kp); Sse.Prefetch0(next + 3 * kp);
            }
            x0 = TStep.LoadX(x + p);
            s00 = TStep.Add(s00, x0, w0);
            if (TCols.Value > 1) { s01 = TStep.Add(s01, x0, w1); s02 = TStep.Add(s02, x0, w2); s03 = TStep.Add(s03, x0, w3); }
            if (TRows.Value > 1)
            {
                x1 = TStep.LoadX(x + kp + p);
                s10 = TStep.Add(s10, x1, w0);
                if (TCols.Value > 1) { s11 = TStep.Add(s11, x1, w1); s12 = TStep.Add(s12, x1, w2); s13 = TStep.Add(s13, x1, w3); }
            }
            if (TRows.Value > 2)
            {
                x2 = TStep.LoadX(x + 2 * kp + p);
                s20 = TStep.Add(s20, x2, w0);
                if (TCols.Value > 1) { s21 = TStep.Add(s21, x2, w1); s22 = TStep.Add(s22, x2, w2); s23 = TStep.Add(s23, x2, w3); }
            }
            if (TRows.Value > 3)
            {
                x3 = TStep.LoadX(x + 3 * kp + p);
                s30 = TStep.Add(s30, x3, w0);
                if (TCols.Value > 1) { s31 = TStep.Add(s31, x3, w1); s32 = TStep.Add(s32, x3, w2); s33 = TStep.Add(s33, x3, w3); }
            }
        }
        Store<TCols, TStep, TX, TW, TAcc>(s00, s01, s02, s03, xs[0], ws, sums, y);
        if (TRows.Value > 1) Store<TCols, TStep, TX, TW, TAcc>(s10, s11, s12, s13, xs[1], ws, sums, y + ldy);
        if (TRows.Value > 2) Store<TCols, TStep, TX, TW, TAcc>(s20, s21, s22, s23, xs[2], ws, sums, y + 2 * ldy);
        if (TRows.Value > 3) Store<TCols, TStep, TX, TW, TAcc>(s30, s31, s32, s33, xs[3], ws, sums, y + 3 * ldy);
    }

    /// <summary>One activation row against one weight row; two accumulators, so consecutive multiply-adds (vpdpbusd's
    /// latency) do not wait on each other.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Row<TStep, TX, TW, TAcc>(int kp, byte* x, float xs, sbyte* w, float ws, int rowSum)
        where TStep : struct, IStep<TX, TW, TAcc> where TX : struct where TW : struct where TAcc : struct
    {
        TAcc a = default, b = default;
        int p = 0;
        for (; p + 2 * Step <= kp; p += 2 * Step)
        {
            a = TStep.Add(a, TStep.LoadX(x + p), TStep.LoadW(w + p));
            b = TStep.Add(b, TStep.LoadX(x + p + Step), TStep.LoadW(w + p + Step));
        }
        if (p < kp) a = TStep.Add(a, TStep.LoadX(x + p), TStep.LoadW(w + p));
        return (TStep.Sum(a) + TStep.Sum(b) - 128 * rowSum) * xs * ws;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store<TCols, TStep, TX, TW, TAcc>(TAcc a, TAcc b, TAcc c, TAcc d, float xs, float* ws, int* sums, float* y)
        where TCols : struct, GemmSmallM.IConstant
        where TStep : struct, IStep<TX, TW, TAcc> where TX : struct where TW : struct where TAcc : struct
    {
        y[0] = (TStep.Sum(a) - 128 * sums[0]) * xs * ws[0];
        if (TCols.Value > 1)
        {
            y[1] = (TStep.Sum(b) - 128 * sums[1]) * xs * ws[1];
            y[2] = (TStep.Sum(c) - 128 * sums[2]) * xs * ws[2];
            y[3] = (TStep.Sum(d) - 128 * sums[3]) * xs * ws[3];
        }
    }

    /// <summary>One 32-byte multiply-add step: operands as loaded (or widened) and the accumulator type.</summary>
    private interface IStep<TX, TW, TAcc>
    {
        static abstract TX LoadX(byte* x);

        static abstract TW LoadW(sbyte* w);

        static abstract TAcc Add(TAcc sum, TX x, TW w);

        static abstract int Sum(TAcc sum);
    }

    /// <summary>vpdpbusd: 32 uint8 × int8 products summed in fours into eight int32 lanes.</summary>
    private readonly struct VnniStep : IStep<Vector256<byte>, Vector256<sbyte>, Vector256<int>>
    {
        public static Vector256<byte> LoadX(byte* x) => Vector256.Load(x);

        public static Vector256<sbyte> LoadW(sbyte* w) => Vector256.Load(w);

        public static Vector256<int> Add(Vector256<int> sum, Vector256<byte> x, Vector256<sbyte> w) => AvxVnni.MultiplyWideningAndAdd(sum, x, w);

        public static int Sum(Vector256<int> sum) => Vector256.Sum(sum);
    }

    /// <summary>
    /// Both operands widened to int16 (uint8 zero-, int8 sign-extended), then vpmaddwd sums products
    /// in pairs into sixteen int32 lanes: |pair| ≤ 2·255·127, no saturation, the same totals as vpdpbusd.
    /// </summary>
    private readonly struct WideningStep512 : IStep<Vector512<short>, Vector512<short>, Vector512<int>>
    {
        public static Vector512<short> LoadX(byte* x) => Avx512BW.ConvertToVector512Int16(Vector256.Load(x));

        public static Vector512<short> LoadW(sbyte* w) => Avx512BW.ConvertToVector512Int16(Vector256.Load(w));

        public static Vector512<int> Add(Vector512<int> sum, Vector512<short> x, Vector512<short> w) => sum + Avx512BW.MultiplyAddAdjacent(x, w);

        public static int Sum(Vector512<int> sum) => Vector512.Sum(sum);
    }

    /// <summary>The 32 bytes of a step widened to int16 in two 256-bit halves.</summary>
    private readonly struct Halves(Vector256<short> low, Vector256<short> high)
    {
        public Vector256<short> Low { get; } = low;

        public Vector256<short> High { get; } = high;
    }

    /// <summary><see cref="WideningStep512"/> on AVX2: two vpmaddwd per 32 bytes into eight int32 lanes.</summary>
    private readonly struct WideningStep256 : IStep<Halves, Halves, Vector256<int>>
    {
        public static Halves LoadX(byte* x) => new(Avx2.ConvertToVector256Int16(Vector128.Load(x)), Avx2.ConvertToVector256Int16(Vector128.Load(x + 16)));

        public static Halves LoadW(sbyte* w) => new(Avx2.ConvertToVector256Int16(Vector128.Load(w)), Avx2.ConvertToVector256Int16(Vector128.Load(w + 16)));

        public static Vector256<int> Add(Vector256<int> sum, Halves x, Halves w) =>
            sum + Avx2.MultiplyAddAdjacent(x.Low, w.Low) + Avx2.MultiplyAddAdjacent(x.High, w.High);

        public static int Sum(Vector256<int> sum) => Vector256.Sum(sum);
    }
}

/// <summary>How <see cref="Int8DotKernel"/> multiplies and adds 32 bytes.</summary>
internal enum Int8DotStep
{
    /// <summary>AVX512-VNNI vpdpbusd on 512-bit registers, in a 4 × 4 tile kernel assembled at start-up (<see cref="Int8VnniTileKernel"/>).</summary>
    Vnni512,

    /// <summary>AVX-VNNI vpdpbusd.</summary>
    Vnni,

    /// <summary>AVX-512BW widening to int16 and vpmaddwd.</summary>
    Widening512,

    /// <summary>AVX2 widening to int16 and vpmaddwd.</summary>
    Widening256,
}
#endif
