using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Peft.Tensors.Kernels.Native;
using static Peft.Tensors.Kernels.Native.X86Assembler;

namespace Peft.Tensors.Kernels;

/// <summary>
/// IEEE-half weight rows through AVX-512F's vcvtph2ps, which widens sixteen halves from memory in one instruction where
/// the managed widening needs four (.NET 10 exposes no vcvtph2ps, so the code is assembled at run time): their products
/// with one activation row (token-by-token decoding of an F16 base, and the greedy screen's candidate logits of an F16
/// head), and their widening to float32 for the tiles that larger products multiply with the float GEMM. At batch 1
/// the widening decides how fast weights in cache stream: on Zen 4 the managed F16 path ran 1.2-1.5x behind this one
/// (and BF16's two-instruction widening). The widening is exact, as the managed one is; the row sums differ from the
/// managed kernel's only in their order.
/// </summary>
internal static unsafe class Float16RowKernel
{
    /// <summary>Weights per pass of the loop (two vectors): the row length must be a multiple of it.</summary>
    public const int Step = 32;

    /// <summary>Weights per step of <see cref="Widen"/>: the count must be a multiple of it.</summary>
    public const int WidenStep = 16;

    private static readonly nint s_entry = Build(Assemble());
    private static readonly nint s_widen = s_entry == 0 ? 0 : Build(AssembleWiden());

    /// <summary>Whether the kernels run on this machine.</summary>
    public static bool IsAvailable => s_entry != 0 && s_widen != 0;

    /// <summary>Whether rows of <paramref name="k"/> weights can take this kernel here.</summary>
    public static bool Supports(int k) => IsAvailable && k > 0 && k % Step == 0;

    /// <summary>y[j] = Σ_c x[c]·w[j·k + c] for j &lt; <paramref name="rows"/>: consecutive weight rows of <paramref name="k"/> halves.</summary>
    public static void Multiply(float* x, int k, ushort* w, int rows, float* y)
    {
        if (!Supports(k)) throw new ArgumentOutOfRangeException(nameof(k), $"The F16 row kernel takes rows of a positive multiple of {Step} weights where AVX-512F runs; got {k}.");
        if (rows <= 0) return;
        ((delegate* unmanaged[SuppressGCTransition]<float*, ushort*, long, float*, float*, void>)s_entry)(x, w, 2L * k, y, y + rows);
    }

    /// <summary>dst[i] = the float32 value of src[i] for i &lt; <paramref name="count"/> (a positive multiple of <see cref="WidenStep"/>).</summary>
    public static void Widen(ushort* src, int count, float* dst)
    {
        if (!IsAvailable) throw new PlatformNotSupportedException("The assembled F16 kernels do not run on this machine.");
        if (count <= 0 || count % WidenStep != 0)
            throw new ArgumentOutOfRangeException(nameof(count), $"The F16 widening takes a positive multiple of {WidenStep} halves; got {count}.");
        ((delegate* unmanaged[SuppressGCTransition]<ushort*, float*, ushort*, void>)s_widen)(src, dst, src + count);
    }

    private static nint Build(byte[] code)
    {
        if (!Avx512F.IsSupported || !Vector512.IsHardwareAccelerated) return 0;
        return ExecutableMemory.TryLoad(code) ?? 0;
    }

    /// <summary>The System V x64 widening (src: rdi, dst: rsi, end of src: rdx): sixteen halves per step.</summary>
    internal static byte[] AssembleWiden()
    {
        var a = new X86Assembler();
        int loop = a.Position;
        a.ConvertHalfToSingle(0, Rdi, 0);
        a.Store(Rsi, 0, 0);
        a.AddImmediate(Rdi, 32);
        a.AddImmediate(Rsi, 64);
        a.Compare(Rdi, Rdx);
        a.JumpIfBelow(loop);
        a.Vzeroupper();
        a.Ret();
        return a.ToArray();
    }

    /// <summary>The System V x64 function (x: rdi, w: rsi, row bytes: rdx, y: rcx, end of y: r8).</summary>
    internal static byte[] Assemble()
    {
        var a = new X86Assembler();
        // Per row: x in r9, the row's end in r11, two accumulators (zmm2, zmm3) over alternate vectors; widened weights in zmm0/1.
        int row = a.Position;
        a.ClearVector(2);
        a.ClearVector(3);
        a.Move(R9, Rdi);
        a.AddRegisters(R11, Rsi, Rdx);
        int inner = a.Position;
        a.ConvertHalfToSingle(0, Rsi, 0);
        a.ConvertHalfToSingle(1, Rsi, 32);
        a.MultiplyAddSingle(2, 0, R9, 0);
        a.MultiplyAddSingle(3, 1, R9, 64);
        a.AddImmediate(Rsi, 64);
        a.AddImmediate(R9, 128);
        a.Compare(Rsi, R11);
        a.JumpIfBelow(inner);
        // Sum of the 32 lanes: the two accumulators, then 256-bit halves, 128-bit quarters, pairs, neighbours.
        a.AddSingle(2, 2, 3);
        a.ShuffleLanes(3, 2, 2, 0x4E);
        a.AddSingle(2, 2, 3);
        a.ShuffleLanes(3, 2, 2, 0xB1);
        a.AddSingle(2, 2, 3);
        a.ShuffleInt32(3, 2, 0x4E);
        a.AddSingle(2, 2, 3);
        a.ShuffleInt32(3, 2, 0xB1);
        a.AddSingle(2, 2, 3);
        a.StoreScalarSingle(Rcx, 0, 2);
        a.AddImmediate(Rcx, 4);
        a.Compare(Rcx, R8);
        a.JumpIfBelow(row);
        a.Vzeroupper();
        a.Ret();
        return a.ToArray();
    }
}
