namespace Peft.Tensors.Kernels;

/// <summary>
/// The cache blocking of the packed GEMM: <see cref="Kc"/> steps of depth per packed block, <see cref="Mc"/> rows of
/// A per packed A block and <see cref="Nc"/> columns per block of a pre-packed B. Chosen once per process from the CPU's
/// caches (<see cref="Choose"/>); a thread may override it (tests, and the benchmarks' blocking sweep). Packed weights
/// record the depth they were packed with.
/// </summary>
/// <param name="Kc">Depth of a packed block: every A sliver (MR × Kc) and B sliver (Kc × NR) is this deep.</param>
/// <param name="Mc">Rows of a packed A block (Mc × Kc floats), which stays in L2 while the B panel is swept.</param>
/// <param name="Nc">
/// Columns of a pre-packed B per block (Kc × Nc floats) when more rows than one A block sweep it: the block stays in L2
/// while every A sliver of a panel of A blocks is swept across it (GemmDriver).
/// </param>
internal readonly record struct GemmBlocking(int Kc, int Mc, int Nc)
{
    [ThreadStatic] private static GemmBlocking? t_override;

    private static readonly Lazy<GemmBlocking[]> s_chosen = new(() =>
        [Choose(GemmIsa.Portable, CpuCaches.Current), Choose(GemmIsa.Avx2, CpuCaches.Current), Choose(GemmIsa.Avx512, CpuCaches.Current)]);

    /// <summary>
    /// Blocking for GEMM calls (and packings) made from the current thread, or null for the process's choice. Packed
    /// matrices keep the depth they were made with, so a change only affects what is packed and multiplied afterwards.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A block is not positive or is beyond 65536.</exception>
    internal static GemmBlocking? Override
    {
        get => t_override;
        set
        {
            if (value is { } v && (v.Kc is < 1 or > 1 << 16 || v.Mc is < 1 or > 1 << 16 || v.Nc is < 1 or > 1 << 16))
                throw new ArgumentOutOfRangeException(nameof(value), $"GEMM blocking needs 1 <= Kc, Mc, Nc <= 65536 (got Kc {v.Kc}, Mc {v.Mc}, Nc {v.Nc}).");
            t_override = value;
        }
    }

    /// <summary>The blocking the current thread's calls use with a kernel family.</summary>
    public static GemmBlocking For(GemmIsa isa) => t_override ?? s_chosen.Value[isa switch
    {
        GemmIsa.Avx512 => 2,
        GemmIsa.Avx2 => 1,
        _ => 0,
    }];

    /// <summary>
    /// The blocking for a kernel family on a CPU with the given caches and vendor (AVX-512; the AVX2 and portable
    /// kernels keep fixed figures that suit any L1 of 32 KiB and L2 of 256 KiB or more, never measured on a host of
    /// their own: every host here has AVX-512).
    /// <para>Mc keeps the packed A block at the share of L2 measured on Zen 4 (144 rows x 384 steps = 216 KiB of
    /// 1 MiB), so a larger L2 holds a taller block. Kc: the driver sweeps one B sliver (Kc x 32 floats) across every A
    /// sliver of the block, so the sliver is what L1 would keep. On AMD it streams from L2 at full speed (Zen 4: every
    /// Kc from 384 to 640 within 1-2 % of the others, 256 2-3 % slower; bench/RESULTS.md "Cache blocking from the CPU's
    /// caches"), so Kc stays at the measured 384. On Intel it takes the analytical model's depth instead: the sliver
    /// within five sixths of L1 (48 KiB: Kc 320; 32 KiB: 208), not yet measured on an Intel host.</para>
    /// <para>Nc keeps a block of pre-packed B at three eighths of L2 (Zen 4: 256 columns x 384 steps = 384 KiB of 1 MiB,
    /// which measured as well as 128-320), rounded down to whole 32-column slivers.</para>
    /// </summary>
    public static GemmBlocking Choose(GemmIsa isa, CpuCaches caches)
    {
        switch (isa)
        {
            case GemmIsa.Avx2:
                // A 256 x 16 B sliver is 16 KiB and the 6-row A sliver 6 KiB: both fit a 32 KiB L1; 144 x 256 floats
                // of packed A (144 KiB) fit a 256 KiB L2.
                return new GemmBlocking(256, 144, 256);
            case GemmIsa.Portable:
                return new GemmBlocking(256, 120, 256);
        }
        int mr = GemmMicroKernel512.MR, nr = GemmMicroKernel512.NR;
        int kc = caches.IsIntel ? Math.Clamp(caches.L1Data * 5 / 6 / (nr * sizeof(float)) / 16 * 16, 192, ReferenceKc) : ReferenceKc;
        double aBlockBytes = (double)ReferenceMc * ReferenceKc * sizeof(float) * caches.L2 / ReferenceL2;
        // At least 132 rows (11 slivers): a 128-token batch then sits in one block, whose B slivers are packed just in
        // time (GemmDriver); at most 4x the reference, past which a block outgrows anything measured.
        int mc = Math.Clamp((int)(aBlockBytes / (kc * sizeof(float))) / mr * mr, (128 + mr - 1) / mr * mr, ReferenceMc * 4);
        int nc = Math.Clamp((int)(caches.L2 * 3L / 8 / (kc * sizeof(float))) / nr * nr, 4 * nr, 32 * nr);
        return new GemmBlocking(kc, mc, nc);
    }

    // The AVX-512 blocking measured on Zen 4 and that host's L2. 144 rows x 384 steps x 4 B = 216 KiB of packed A;
    // the 384 x 32 B sliver (48 KiB) streams from L2 past the 12-row A slivers (18 KiB each).
    private const int ReferenceKc = 384;
    private const int ReferenceMc = 144;
    private const int ReferenceL2 = 1024 * 1024;
}
