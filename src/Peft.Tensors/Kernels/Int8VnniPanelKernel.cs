using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Peft.Tensors.Kernels.Native;
using static Peft.Tensors.Kernels.Native.X86Assembler;

namespace Peft.Tensors.Kernels;

/// <summary>
/// int8 products of many activation rows (prompts) with AVX512-VNNI's vpdpbusd in the broadcast form: a panel of up to
/// 64 weight rows is repacked per call so that one 64-byte vector holds four consecutive bytes of sixteen weight rows,
/// and each activation row's four bytes are read from memory repeated in every lane (embedded broadcast). Up to six
/// rows times four vectors of columns accumulate in 24 registers with no horizontal reduction, and the scaling to float
/// is folded into the same code, so a tile of 384 outputs costs five instructions per sixteen of them past its
/// multiply-adds (the 4 × 4 dot-form tile of <see cref="Int8VnniTileKernel"/> adds a transpose-and-add network and a
/// managed scaling step per sixteen outputs, about a quarter of its time at k = 768).
/// <para>
/// vpdpbusd multiplies unsigned bytes (a register) by signed bytes (memory here), so in this form the activations are
/// the signed operand, as quantized (no +128 offset), and the panel holds the weights plus 128 as uint8. The sum then
/// exceeds Σ x·w by 128·Σ x, which the caller passes per row (<see cref="Arguments.XCorrections"/>): the corrected
/// integers, and the floats made from them in the same order, are those of every other int8 step.
/// </para>
/// </summary>
internal static unsafe class Int8VnniPanelKernel
{
    /// <summary>Activation rows per call, at most.</summary>
    public const int MaxRows = 6;

    /// <summary>Output columns per vector.</summary>
    public const int VectorColumns = 16;

    /// <summary>Vectors of columns per panel, at most.</summary>
    public const int MaxVectors = 4;

    /// <summary>Weight rows (output columns) per panel, at most.</summary>
    public const int PanelColumns = VectorColumns * MaxVectors;

    /// <summary>What a call reads; the assembled code loads each field from its offset in this layout.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Arguments
    {
        /// <summary>Row 0 of the quantized activations, int8, <see cref="Kp"/> bytes apart (a multiple of 64, zero-padded).</summary>
        public sbyte* X;

        /// <summary>Padded row length in bytes.</summary>
        public long Kp;

        /// <summary>The packed panel (<see cref="Pack"/>).</summary>
        public byte* Panel;

        /// <summary>128·Σ x of each row: what the +128 of the packed weights added to the row's sums.</summary>
        public int* XCorrections;

        /// <summary>Each activation row's scale.</summary>
        public float* XScales;

        /// <summary>The scales of the panel's columns (as many as its vectors cover).</summary>
        public float* WScales;

        /// <summary>Output row 0, column 0 of the panel.</summary>
        public float* Y;

        /// <summary>Bytes between output rows.</summary>
        public long LdyBytes;
    }

    // Entry points by (rows − 1)·MaxVectors + vectors − 1.
    private static readonly nint[]? s_entries = Build();

    /// <summary>Whether the kernels run here (the same conditions as <see cref="Int8VnniTileKernel"/>).</summary>
    public static bool IsAvailable => s_entries != null;

    /// <summary>
    /// y[r, c] = (Σ_k x[r, k]·(panel column c's bytes) − corrections[r]) · xScales[r] · wScales[c] for
    /// <paramref name="rows"/> rows (1-6) and 16·<paramref name="vectors"/> columns (1-4 vectors).
    /// </summary>
    public static void Run(int rows, int vectors, Arguments* arguments)
    {
        if (s_entries == null) throw new PlatformNotSupportedException("The AVX512-VNNI panel kernel is not available on this machine.");
        if ((uint)(rows - 1) >= MaxRows) throw new ArgumentOutOfRangeException(nameof(rows), $"rows must be 1 to {MaxRows}; got {rows}.");
        if ((uint)(vectors - 1) >= MaxVectors) throw new ArgumentOutOfRangeException(nameof(vectors), $"vectors must be 1 to {MaxVectors}; got {vectors}.");
        if (arguments->Kp <= 0 || arguments->Kp % 64 != 0) throw new ArgumentOutOfRangeException(nameof(arguments), $"Kp must be a positive multiple of 64; got {arguments->Kp}.");
        ((delegate* unmanaged[SuppressGCTransition]<Arguments*, void>)s_entries[(rows - 1) * MaxVectors + vectors - 1])(arguments);
    }

    /// <summary>Bytes of a packed panel of <paramref name="vectors"/> vectors over <paramref name="kp"/> bytes of k.</summary>
    public static long PanelBytes(int kp, int vectors) => (long)kp * VectorColumns * vectors;

    /// <summary>
    /// Packs weight rows w[0 .. columns) (int8, <paramref name="kp"/> bytes apart, a multiple of 64) into
    /// <paramref name="panel"/>: for every four bytes of k (step s), <paramref name="vectors"/> vectors of 64 bytes, lane l
    /// of vector v holding w[16v + l, 4s .. 4s + 3] + 128 as uint8; columns past <paramref name="columns"/> hold zero
    /// weights (128). Sixteen rows × 64 bytes at a time through a 16 × 16 transpose of 32-bit lanes (about a ninth of a
    /// cycle per byte on Zen 4: a 768 × 768 matrix costs what six rows of its products do, so callers take this path from
    /// 32 rows).
    /// </summary>
    public static void Pack(sbyte* w, int kp, int columns, int vectors, byte* panel)
    {
        if (kp <= 0 || kp % 64 != 0) throw new ArgumentOutOfRangeException(nameof(kp), $"kp must be a positive multiple of 64; got {kp}.");
        if (columns < 1 || columns > vectors * VectorColumns || (uint)(vectors - 1) >= MaxVectors)
            throw new ArgumentOutOfRangeException(nameof(columns), $"{columns} columns do not fit {vectors} vectors of {VectorColumns}.");
        for (int v = 0; v < vectors; v++)
        {
            int present = Math.Clamp(columns - v * VectorColumns, 0, VectorColumns);
            sbyte* rows = w + (long)v * VectorColumns * kp;
            for (int kb = 0; kb < kp; kb += 64)
                Transpose16(rows + kb, kp, present, panel + ((long)(kb / 4) * vectors + v) * 64, (long)vectors * 64);
        }
    }

    /// <summary>
    /// Lane i of output t (at <paramref name="destination"/> + t·<paramref name="stride"/>) = bytes 4t..4t+3 of row i + 128
    /// as uint8, for sixteen rows <paramref name="kp"/> bytes apart, of which the first <paramref name="present"/> exist (the
    /// others are zero weights). Locals rather than arrays, so the JIT keeps the sixteen rows in registers.
    /// </summary>
    private static void Transpose16(sbyte* row0, int kp, int present, byte* destination, long stride)
    {
        var flip = Vector512.Create(unchecked((int)0x80808080));
        Vector512<int> Row(int i) => i < present ? Vector512.Load((int*)(row0 + (long)i * kp)) ^ flip : flip;
        // Within 128-bit lanes: pairs of rows interleaved, then quads, so that uQG's lane L holds rows 4G..4G+3 at 4L + Q.
        var (u00, u01, u02, u03) = Quad(Row(0), Row(1), Row(2), Row(3));
        var (u10, u11, u12, u13) = Quad(Row(4), Row(5), Row(6), Row(7));
        var (u20, u21, u22, u23) = Quad(Row(8), Row(9), Row(10), Row(11));
        var (u30, u31, u32, u33) = Quad(Row(12), Row(13), Row(14), Row(15));
        // Across lanes: a 4 × 4 transpose of 128-bit lanes among the four groups' vectors of the same q.
        Lanes(u00, u10, u20, u30, destination, stride);
        Lanes(u01, u11, u21, u31, destination + stride, stride);
        Lanes(u02, u12, u22, u32, destination + 2 * stride, stride);
        Lanes(u03, u13, u23, u33, destination + 3 * stride, stride);

        static (Vector512<int>, Vector512<int>, Vector512<int>, Vector512<int>) Quad(Vector512<int> r0, Vector512<int> r1, Vector512<int> r2, Vector512<int> r3)
        {
            var t0 = Avx512F.UnpackLow(r0, r1).AsInt64(); var t1 = Avx512F.UnpackHigh(r0, r1).AsInt64();
            var t2 = Avx512F.UnpackLow(r2, r3).AsInt64(); var t3 = Avx512F.UnpackHigh(r2, r3).AsInt64();
            return (Avx512F.UnpackLow(t0, t2).AsInt32(), Avx512F.UnpackHigh(t0, t2).AsInt32(),
                Avx512F.UnpackLow(t1, t3).AsInt32(), Avx512F.UnpackHigh(t1, t3).AsInt32());
        }

        // Output q (lane L = 0), 4 + q, 8 + q, 12 + q: lane L of each group's vector, groups in order.
        static void Lanes(Vector512<int> g0, Vector512<int> g1, Vector512<int> g2, Vector512<int> g3, byte* destination, long stride)
        {
            var v0 = Avx512F.Shuffle4x128(g0, g1, 0x44);
            var v1 = Avx512F.Shuffle4x128(g0, g1, 0xEE);
            var v2 = Avx512F.Shuffle4x128(g2, g3, 0x44);
            var v3 = Avx512F.Shuffle4x128(g2, g3, 0xEE);
            Avx512F.Shuffle4x128(v0, v2, 0x88).Store((int*)destination);
            Avx512F.Shuffle4x128(v0, v2, 0xDD).Store((int*)(destination + 4 * stride));
            Avx512F.Shuffle4x128(v1, v3, 0x88).Store((int*)(destination + 8 * stride));
            Avx512F.Shuffle4x128(v1, v3, 0xDD).Store((int*)(destination + 12 * stride));
        }
    }

    private static nint[]? Build()
    {
        if (!Int8VnniTileKernel.CpuHasAvx512Vnni) return null;
        var code = new List<byte>();
        var offsets = new int[MaxRows * MaxVectors];
        for (int rows = 1; rows <= MaxRows; rows++)
            for (int vectors = 1; vectors <= MaxVectors; vectors++)
            {
                while (code.Count % 64 != 0) code.Add(0xCC);
                offsets[(rows - 1) * MaxVectors + vectors - 1] = code.Count;
                code.AddRange(Assemble(rows, vectors));
            }
        if (ExecutableMemory.TryLoad([.. code]) is not { } start) return null;
        return [.. offsets.Select(o => start + o)];
    }

    /// <summary>The System V x64 function of one (rows, vectors) shape: rdi = <see cref="Arguments"/>*.</summary>
    internal static byte[] Assemble(int rows, int vectors)
    {
        // Four steps of four bytes per pass of the loop (kp is a multiple of 64, so of 16).
        const int Unroll = 4;
        var a = new X86Assembler();
        int[] saved = [Rbx, R12, R13, R14, R15];
        foreach (int r in saved) a.Push(r);
        // Activation rows in r8-r13, kp in rdx, the panel in rsi, the byte offset into every row in rax; weights in zmm0-3,
        // the accumulator of row r, vector v in zmm8 + 4r + v.
        int[] xRows = [R8, R9, R10, R11, R12, R13];
        static int Accumulator(int row, int vector) => 8 + MaxVectors * row + vector;
        static int Field(string name) => (int)Marshal.OffsetOf<Arguments>(name);
        a.LoadRegister(R8, Rdi, Field(nameof(Arguments.X)));
        a.LoadRegister(Rdx, Rdi, Field(nameof(Arguments.Kp)));
        for (int r = 1; r < rows; r++) a.AddRegisters(xRows[r], xRows[r - 1], Rdx);
        a.LoadRegister(Rsi, Rdi, Field(nameof(Arguments.Panel)));
        a.Clear(Rax);
        for (int r = 0; r < rows; r++)
            for (int v = 0; v < vectors; v++) a.ClearVector(Accumulator(r, v));
        int loop = a.Position;
        for (int u = 0; u < Unroll; u++)
        {
            for (int v = 0; v < vectors; v++) a.LoadAt(v, Rsi, (u * vectors + v) * 64);
            for (int r = 0; r < rows; r++)
                for (int v = 0; v < vectors; v++) a.MultiplyAddBytesBroadcast(Accumulator(r, v), v, xRows[r], Rax, 4 * u);
        }
        a.AddImmediate(Rsi, Unroll * vectors * 64);
        a.AddImmediate(Rax, 4 * Unroll);
        a.Compare(Rax, Rdx);
        a.JumpIfBelow(loop);
        // y = float(total − correction) · x scale · w scale, row by row: corrections in rbx, x scales in r14, w scales in
        // r15, the output row in rcx, its stride in rdx.
        a.LoadRegister(Rbx, Rdi, Field(nameof(Arguments.XCorrections)));
        a.LoadRegister(R14, Rdi, Field(nameof(Arguments.XScales)));
        a.LoadRegister(R15, Rdi, Field(nameof(Arguments.WScales)));
        a.LoadRegister(Rcx, Rdi, Field(nameof(Arguments.Y)));
        a.LoadRegister(Rdx, Rdi, Field(nameof(Arguments.LdyBytes)));
        for (int r = 0; r < rows; r++)
        {
            for (int v = 0; v < vectors; v++)
            {
                int z = Accumulator(r, v);
                a.SubtractInt32Broadcast(z, Rbx, 4 * r);
                a.ConvertInt32ToSingle(z, z);
                a.MultiplySingle(z, R14, 4 * r, broadcast: true);
                a.MultiplySingle(z, R15, 64 * v, broadcast: false);
                a.Store(Rcx, 64 * v, z);
            }
            a.AddRegisters(Rcx, Rcx, Rdx);
        }
        a.Vzeroupper();
        for (int i = saved.Length - 1; i >= 0; i--) a.Pop(saved[i]);
        a.Ret();
        return a.ToArray();
    }
}
