using Peft.Tensors.Kernels;

namespace Peft.Tensors.Tests;

/// <summary>
/// The GEMM's cache blocking: products stay exact under any blocking a CPU's caches could give, packed weights keep the
/// depth they were packed with, and the start-up choice follows the caches.
/// </summary>
[TestClass]
public sealed class GemmBlockingTests
{
    public static IEnumerable<object[]> IsaAndThreads() => GemmTests.IsaAndThreads();

    // Blocks far below, around and above the chosen ones: one step deep, Mc not a multiple of any MR, Kc past every K.
    private static readonly GemmBlocking[] Blockings = [new(16, 12, 64), new(1, 5, 1), new(100, 30, 96), new(1000, 500, 1000)];

    [TestMethod]
    [DynamicData(nameof(IsaAndThreads))]
    public void ProductsMatchTheReferenceUnderEveryBlocking(int isa, int threads)
    {
        using var _ = GemmTests.Force((GemmIsa)isa, threads);
        var rng = new Random(isa * 10 + threads);
        foreach (var blocking in Blockings)
        {
            using var __ = Use(blocking);
            // (11, 200, 50) and (20, 200, 50): one block of rows over several Nc blocks of B, deeper than Kc for some blockings.
            foreach (var (m, n, k) in new[] { (9, 33, 16), (37, 70, 130), (150, 65, 257), (300, 100, 45), (11, 200, 50), (20, 200, 50) })
                foreach (bool ta in new[] { false, true })
                    foreach (bool tb in new[] { false, true })
                        GemmTests.CheckCase(rng, ta, tb, m, n, k, alpha: 1.5f, beta: 0.5f, pad: 1);
        }
    }

    [TestMethod]
    [DynamicData(nameof(IsaAndThreads))]
    public void PackedMatrixKeepsTheDepthItWasPackedWith(int isa, int threads)
    {
        using var _ = GemmTests.Force((GemmIsa)isa, threads);
        var rng = new Random(5);
        foreach (var (m, n, k) in new[] { (1, 100, 300), (5, 64, 129), (40, 70, 200), (3, 300, 400) })
        {
            var a = GemmTests.RandomArray(rng, m * k);
            var b = GemmTests.RandomArray(rng, k * n);
            var expected = new float[m * n];
            Gemm.Multiply(false, true, m, n, k, 1f, a, k, b, k, 0f, expected, n);

            PackedMatrix packed;
            using (Use(new GemmBlocking(48, 24, 64))) packed = PackedMatrix.Pack(true, k, n, b, k);
            Assert.AreEqual(48, packed.BlockDepth);
            // Multiplied under the process's blocking and under a third one: the layout is the matrix's own.
            foreach (var blocking in new GemmBlocking?[] { null, new GemmBlocking(96, 36, 32) })
            {
                using var __ = Use(blocking);
                var actual = new float[m * n];
                Gemm.Multiply(false, m, 1f, a, k, packed, 0f, actual, n);
                GemmTests.AssertClose(expected, actual, k, $"m={m} n={n} k={k} packed at Kc 48, multiplied at {blocking?.ToString() ?? "default"}");
            }
        }
    }

    [TestMethod]
    [DynamicData(nameof(IsaAndThreads))]
    public void PackedProductsOverManyRowsEqualTheStridedOnesBitForBit(int isa, int threads)
    {
        // More rows than one A block take the other loop order (A slivers swept across blocks of B): several A panels
        // (4 x 24 rows), B blocks (64 columns) and depth blocks (48), with edges in each, must give the strided
        // product's floats exactly (the same tiles summed in the same order).
        using var _ = GemmTests.Force((GemmIsa)isa, threads);
        using var __ = Use(new GemmBlocking(48, 24, 64));
        var rng = new Random(17);
        foreach (var (m, n, k) in new[] { (37, 200, 130), (250, 70, 100), (100, 33, 400), (97, 64, 48) })
            foreach (bool ta in new[] { false, true })
                foreach (float beta in new[] { 0f, 0.5f })
                {
                    var a = GemmTests.RandomArray(rng, m * k);
                    var b = GemmTests.RandomArray(rng, n * k);
                    int lda = ta ? m : k;
                    var packed = PackedMatrix.Pack(true, k, n, b, k);
                    var strided = GemmTests.RandomArray(rng, m * n);
                    var fromPacked = (float[])strided.Clone();
                    Gemm.Multiply(ta, true, m, n, k, 1.5f, a, lda, b, k, beta, strided, n);
                    Gemm.Multiply(ta, m, 1.5f, a, lda, packed, beta, fromPacked, n);
                    string label = $"m={m} n={n} k={k} ta={ta} beta={beta} {(GemmIsa)isa} threads {threads}";
                    for (int i = 0; i < strided.Length; i++)
                        Assert.AreEqual(BitConverter.SingleToInt32Bits(strided[i]), BitConverter.SingleToInt32Bits(fromPacked[i]),
                            $"{label}: element {i} is {fromPacked[i]}, the strided product's {strided[i]}");
                }
    }

    [TestMethod]
    public void OverrideRefusesEmptyOrHugeBlocks()
    {
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => GemmBlocking.Override = new GemmBlocking(0, 12, 64));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => GemmBlocking.Override = new GemmBlocking(16, 12, -1));
        var ex = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => GemmBlocking.Override = new GemmBlocking(16, 1 << 17, 64));
        StringAssert.Contains(ex.Message, "Mc 131072");
        Assert.IsNull(GemmBlocking.Override);
    }

    [TestMethod]
    public void AvxFiveTwelveBlockingFollowsTheCachesAndVendor()
    {
        // The host the figures were measured on (Zen 4: 32 KiB L1d, 1 MiB L2) gets them back, as does Zen 5 (48 KiB
        // L1d): on AMD the B sliver streams from L2, so only the L2 sets the block.
        Assert.AreEqual(new GemmBlocking(384, 144, 256), GemmBlocking.Choose(GemmIsa.Avx512, Caches(Amd, 32, 1024)));
        Assert.AreEqual(new GemmBlocking(384, 144, 256), GemmBlocking.Choose(GemmIsa.Avx512, Caches(Amd, 48, 1024)));
        Assert.AreEqual(new GemmBlocking(384, 288, 512), GemmBlocking.Choose(GemmIsa.Avx512, Caches(Amd, 48, 2048)));
        // A CPU whose caches could not be read is taken for the measured one.
        Assert.AreEqual(new GemmBlocking(384, 144, 256), GemmBlocking.Choose(GemmIsa.Avx512, CpuCaches.Assumed));
        // Intel: the B sliver within 5/6 of L1 (Sapphire/Emerald Rapids 48 KiB: 40 KiB, Kc 320; Skylake-SP 32 KiB: 208),
        // the A block at the measured share of L2 (216 KiB per MiB: 2 MiB 336 rows of 320, 1 MiB 264 of 208).
        Assert.AreEqual(new GemmBlocking(320, 336, 608), GemmBlocking.Choose(GemmIsa.Avx512, Caches(Intel, 48, 2048)));
        Assert.AreEqual(new GemmBlocking(208, 264, 448), GemmBlocking.Choose(GemmIsa.Avx512, Caches(Intel, 32, 1024)));
        Assert.AreEqual(new GemmBlocking(320, 216, 384), GemmBlocking.Choose(GemmIsa.Avx512, Caches(Intel, 48, 1280)));

        foreach (string vendor in new[] { Intel, Amd })
            foreach (var (l1, l2) in new[] { (16, 256), (32, 512), (48, 1280), (64, 4096), (128, 16384), (1024, 65536) })
            {
                var chosen = GemmBlocking.Choose(GemmIsa.Avx512, Caches(vendor, l1, l2));
                string label = $"{vendor} L1 {l1} KiB, L2 {l2} KiB: {chosen}";
                Assert.AreEqual(0, chosen.Kc % 16, label);
                Assert.AreEqual(0, chosen.Mc % 12, label);
                Assert.AreEqual(0, chosen.Nc % 32, label);
                Assert.IsTrue(chosen.Nc is >= 128 and <= 1024, label);
                Assert.IsTrue(chosen.Kc is >= 192 and <= 384, label);
                // At least a 128-token batch in one block, and never more than four times the measured block.
                Assert.IsTrue(chosen.Mc is >= 128 and <= 576, label);
            }
    }

    [TestMethod]
    public void OtherKernelFamiliesKeepTheirFixedBlocking()
    {
        foreach (var caches in new[] { Caches(Intel, 32, 256), Caches(Amd, 48, 2048) })
        {
            Assert.AreEqual(new GemmBlocking(256, 144, 256), GemmBlocking.Choose(GemmIsa.Avx2, caches));
            Assert.AreEqual(new GemmBlocking(256, 120, 256), GemmBlocking.Choose(GemmIsa.Portable, caches));
        }
    }

    [TestMethod]
    public void TheProcessBlockingIsTheChoiceForThisMachinesCaches()
    {
        foreach (var isa in new[] { GemmIsa.Avx512, GemmIsa.Avx2, GemmIsa.Portable })
            Assert.AreEqual(GemmBlocking.Choose(isa, CpuCaches.Current), GemmBlocking.For(isa), $"{isa} on {CpuCaches.Current}");
        using (Use(new GemmBlocking(64, 24, 96)))
            Assert.AreEqual(new GemmBlocking(64, 24, 96), GemmBlocking.For(GemmIsa.Avx512));
    }

    private const string Intel = "GenuineIntel", Amd = "AuthenticAMD";

    private static CpuCaches Caches(string vendor, int l1KiB, int l2KiB) => new(vendor, l1KiB * 1024, l2KiB * 1024, 64L << 20, "test");

    /// <summary>Sets this thread's blocking (null: the process's) until disposed.</summary>
    private static IDisposable Use(GemmBlocking? blocking)
    {
        var previous = GemmBlocking.Override;
        GemmBlocking.Override = blocking;
        return new Restore(previous);
    }

    private sealed class Restore(GemmBlocking? previous) : IDisposable
    {
        public void Dispose() => GemmBlocking.Override = previous;
    }
}
