using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Peft.Tensors.Kernels.Native;
using static Peft.Tensors.Kernels.Native.X86Assembler;

namespace Peft.Tensors.Kernels;

/// <summary>
/// A 4 × 4 tile of int8 dot products with AVX512-VNNI's vpdpbusd on 512-bit registers (64 uint8 × int8 products per
/// instruction), which .NET 10 does not expose on CPUs that have it but not AVX-VNNI or AVX10 (Zen 4, Ice Lake to Emerald
/// Rapids): the loop is assembled once at start-up (<see cref="X86Assembler"/>) into executable pages
/// (<see cref="ExecutableMemory"/>). Four activation rows and four weight rows are read 64 bytes at a time into sixteen
/// accumulators of sixteen int32 lanes, and the weight rows two tiles further on are prefetched alongside.
/// The sixteen accumulators are then added up lane-wise by a transpose-and-add network into one vector of the sixteen
/// totals, which is all the kernel stores: the integers of the other int8 steps. One call runs a column of such tiles:
/// consecutive groups of four activation rows against the same four weight rows (one call per tile cost about a seventh
/// of the kernel's time in managed loop, call and register saves at a 128-token prompt).
/// </summary>
internal static unsafe class Int8VnniTileKernel
{
    // How many tiles ahead the weight rows are prefetched: one tile of compute at batch 8 (two groups) is too short to hide
    // DRAM latency for the next tile; two ahead measured +4-7 % int8 batch-8 decoding and no loss on prompts, three lost.
    private const int PrefetchTilesAhead = 2;

    /// <summary>Int32 values the kernel writes: the total of row r, column c at 4r + c.</summary>
    public const int Totals = 16;

    // (x row 0, w row 0, kp, totals, end of totals): rows r of x and w are kp bytes apart; kp is a positive multiple of 64;
    // one group of four x rows per 16 totals up to the end.
    private static readonly delegate* unmanaged[SuppressGCTransition]<byte*, sbyte*, long, int*, int*, void> s_tiles = Build();

    /// <summary>Whether the kernel runs here: AVX512-VNNI and AVX-512BW, Linux x64, executable pages granted.</summary>
    public static bool IsAvailable => s_tiles != null;

    /// <summary>
    /// For each of <paramref name="groups"/> groups g of four rows of x (rows 4g to 4g + 3), writes Σ_k x[4g + r, k]·w[c, k]
    /// (x as uint8, w as int8) to <paramref name="totals"/>[16g + 4r + c] (<see cref="Totals"/> ints per group).
    /// </summary>
    public static void Run(byte* x, sbyte* w, int kp, int* totals, int groups = 1)
    {
        if (s_tiles == null) throw new PlatformNotSupportedException("The AVX512-VNNI tile kernel is not available on this machine.");
        if (kp <= 0 || kp % 64 != 0) throw new ArgumentOutOfRangeException(nameof(kp), $"kp must be a positive multiple of 64; got {kp}.");
        ArgumentOutOfRangeException.ThrowIfLessThan(groups, 1);
        s_tiles(x, w, kp, totals, totals + (long)groups * Totals);
    }

    /// <summary>Whether the CPU reports AVX512_VNNI (CPUID leaf 7, ECX bit 11) and the runtime uses 512-bit registers.</summary>
    internal static bool CpuHasAvx512Vnni =>
        X86Base.IsSupported && Avx512BW.IsSupported && Vector512.IsHardwareAccelerated && (X86Base.CpuId(7, 0).Ecx & (1 << 11)) != 0;

    private static delegate* unmanaged[SuppressGCTransition]<byte*, sbyte*, long, int*, int*, void> Build()
    {
        if (!CpuHasAvx512Vnni) return null;
        var entry = ExecutableMemory.TryLoad(Assemble());
        return entry is { } address ? (delegate* unmanaged[SuppressGCTransition]<byte*, sbyte*, long, int*, int*, void>)address : null;
    }

    /// <summary>The System V x64 function: rdi = x, rsi = w, rdx = kp, rcx = totals, r8 = end of totals (after the last group's).</summary>
    internal static byte[] Assemble()
    {
        var a = new X86Assembler();
        int[] saved = [Rbx, Rbp, R12, R13, R14, R15];
        foreach (int r in saved) a.Push(r);
        // Every general register is taken below, so the end of the totals waits on the stack.
        a.Push(R8);
        // Row pointers: x rows in rdi, r8-r10; weight rows in rsi, r11-r13; the prefetched weight rows in rbx, r14, r15, rbp.
        int[] xRows = [Rdi, R8, R9, R10], wRows = [Rsi, R11, R12, R13], nextRows = [Rbx, R14, R15, Rbp];
        for (int i = 1; i < 4; i++) a.AddRegisters(wRows[i], wRows[i - 1], Rdx);
        a.AddRegisters(nextRows[0], wRows[3], Rdx);
        for (int i = 0; i < PrefetchTilesAhead * 4 - 4; i++) a.AddRegisters(nextRows[0], nextRows[0], Rdx);
        for (int i = 1; i < 4; i++) a.AddRegisters(nextRows[i], nextRows[i - 1], Rdx);
        int group = a.Position;
        for (int i = 1; i < 4; i++) a.AddRegisters(xRows[i], xRows[i - 1], Rdx);
        a.Clear(Rax); // byte offset into every row
        // Accumulators zmm16-31 (row r, column c in 16 + 4r + c); x rows in zmm0-3, weight rows in zmm4-7.
        for (int z = 16; z < 32; z++) a.ClearVector(z);
        int loop = a.Position;
        for (int i = 0; i < 4; i++) a.Load(i, xRows[i], Rax);
        for (int j = 0; j < 4; j++) a.Load(4 + j, wRows[j], Rax);
        for (int j = 0; j < 4; j++) a.Prefetch(nextRows[j], Rax);
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++)
                a.MultiplyAddBytes(16 + 4 * i + j, i, 4 + j);
        a.AddImmediate(Rax, 64);
        a.Compare(Rax, Rdx);
        a.JumpIfBelow(loop);
        // Pairs of accumulators into zmm0-7: per 128-bit lane [a0 + a2, b0 + b2, a1 + a3, b1 + b3].
        for (int t = 0; t < 8; t++)
        {
            a.InterleaveLow32(8, 16 + 2 * t, 17 + 2 * t);
            a.InterleaveHigh32(9, 16 + 2 * t, 17 + 2 * t);
            a.AddInt32(t, 8, 9);
        }
        // Quads into zmm10-13: per 128-bit lane, that lane's partial sums of four consecutive accumulators.
        for (int u = 0; u < 4; u++)
        {
            a.InterleaveLow64(8, 2 * u, 2 * u + 1);
            a.InterleaveHigh64(9, 2 * u, 2 * u + 1);
            a.AddInt32(10 + u, 8, 9);
        }
        // Across the 128-bit lanes: zmm14-15 from quads (0, 1) and (2, 3), then zmm0 = the sixteen totals in order.
        const byte even = 0b10_00_10_00, odd = 0b11_01_11_01;
        for (int h = 0; h < 2; h++)
        {
            a.ShuffleLanes(8, 10 + 2 * h, 11 + 2 * h, even);
            a.ShuffleLanes(9, 10 + 2 * h, 11 + 2 * h, odd);
            a.AddInt32(14 + h, 8, 9);
        }
        a.ShuffleLanes(8, 14, 15, even);
        a.ShuffleLanes(9, 14, 15, odd);
        a.AddInt32(0, 8, 9);
        a.Store(Rcx, 0, 0);
        // The next group: four rows further down x, sixteen totals further on.
        a.AddRegisters(Rdi, xRows[3], Rdx);
        a.AddImmediate(Rcx, Totals * sizeof(int));
        a.CompareWithStackTop(Rcx);
        a.JumpIfBelow(group);
        a.Pop(R8);
        a.Vzeroupper();
        for (int i = saved.Length - 1; i >= 0; i--) a.Pop(saved[i]);
        a.Ret();
        return a.ToArray();
    }
}
