using Peft.Tensors.Kernels;
using Peft.Tensors.Kernels.Native;
using static Peft.Tensors.Kernels.Native.X86Assembler;

namespace Peft.Tensors.Tests;

/// <summary>
/// The run-time assembler's encodings against GNU as 2.40 (`as` with {disp32} forms, then `objdump -d`), instruction by
/// instruction, including the registers whose numbers need the REX/EVEX extension bits (r8-r15, zmm16-31).
/// </summary>
[TestClass]
public sealed class X86AssemblerTests
{
    private static void AssertBytes(Action<X86Assembler> emit, string expected)
    {
        var a = new X86Assembler();
        emit(a);
        Assert.AreEqual(expected, Convert.ToHexString(a.ToArray()).ToLowerInvariant());
    }

    [TestMethod]
    public void EncodingsMatchGnuAs()
    {
        AssertBytes(a => a.Prefetch(R14, Rax), "410f188c0600000000");           // prefetcht0 0x0(%r14,%rax,1)
        AssertBytes(a => a.Prefetch(Rbp, Rax), "0f188c0500000000");             // prefetcht0 0x0(%rbp,%rax,1)
        AssertBytes(a => a.Load(7, R13, Rax), "62d17f486fbc0500000000");         // vmovdqu8 0x0(%r13,%rax,1),%zmm7
        AssertBytes(a => a.Load(0, Rdi, Rax), "62f17f486f840700000000");         // vmovdqu8 0x0(%rdi,%rax,1),%zmm0
        AssertBytes(a => a.Store(Rcx, 0x3c0, 31), "62617e487fb9c0030000");      // vmovdqu32 %zmm31,0x3c0(%rcx)
        AssertBytes(a => a.MultiplyAddBytes(31, 3, 7), "6262654850ff"); // vpdpbusd %zmm7,%zmm3,%zmm31
        AssertBytes(a => a.MultiplyAddBytes(16, 0, 4), "62e27d4850c4");         // vpdpbusd %zmm4,%zmm0,%zmm16
        AssertBytes(a => a.ClearVector(23), "62a14540efff");                     // vpxord %zmm23,%zmm23,%zmm23
        AssertBytes(a => a.InterleaveLow32(8, 16, 17), "62317d4062c1");          // vpunpckldq %zmm17,%zmm16,%zmm8
        AssertBytes(a => a.InterleaveHigh32(9, 30, 31), "62110d406acf");         // vpunpckhdq %zmm31,%zmm30,%zmm9
        AssertBytes(a => a.InterleaveLow64(8, 0, 1), "6271fd486cc1");            // vpunpcklqdq %zmm1,%zmm0,%zmm8
        AssertBytes(a => a.InterleaveHigh64(9, 6, 7), "6271cd486dcf");           // vpunpckhqdq %zmm7,%zmm6,%zmm9
        AssertBytes(a => a.AddInt32(13, 8, 9), "62513d48fee9");                  // vpaddd %zmm9,%zmm8,%zmm13
        AssertBytes(a => a.ShuffleLanes(8, 10, 11, 0x88), "62532d4843c388");     // vshufi32x4 $0x88,%zmm11,%zmm10,%zmm8
        AssertBytes(a => a.ShuffleLanes(9, 14, 15, 0xdd), "62530d4843cfdd");     // vshufi32x4 $0xdd,%zmm15,%zmm14,%zmm9
        AssertBytes(a => a.Store(Rcx, 0, 0), "62f17e487f8100000000");           // vmovdqu32 %zmm0,0x0(%rcx)
        AssertBytes(a => a.Store(R12, 0x40, 3), "62d17e487f9c2440000000");       // vmovdqu32 %zmm3,0x40(%r12)
        AssertBytes(a => a.AddRegisters(Rbx, R13, Rdx), "498d9c1500000000");     // lea 0x0(%r13,%rdx,1),%rbx
        AssertBytes(a => a.Clear(Rax), "4831c0");                                // xor %rax,%rax
        AssertBytes(a => a.AddImmediate(Rax, 64), "4881c040000000");            // add $0x40,%rax (imm32 form)
        AssertBytes(a => a.Compare(Rax, Rdx), "4839d0");                         // cmp %rdx,%rax
        AssertBytes(a => a.CompareWithStackTop(Rcx), "483b0c24");                // cmp (%rsp),%rcx
        AssertBytes(a => a.CompareWithStackTop(R8), "4c3b0424");                 // cmp (%rsp),%r8
        AssertBytes(a => { a.Push(Rbp); a.Push(R15); a.Pop(R12); a.Vzeroupper(); a.Ret(); }, "554157415cc5f877c3");
        // Embedded broadcast ({1to16}), memory operands without an index (r12 as a base needs an SIB byte), float arithmetic.
        AssertBytes(a => a.MultiplyAddBytesBroadcast(31, 3, R8, Rax, 4), "6242655850bc0004000000");   // vpdpbusd 0x4(%r8,%rax,1){1to16},%zmm3,%zmm31
        AssertBytes(a => a.MultiplyAddBytesBroadcast(8, 0, R13, Rax, 0), "62527d5850840500000000");   // vpdpbusd 0x0(%r13,%rax,1){1to16},%zmm0,%zmm8
        AssertBytes(a => a.MultiplyAddBytesBroadcast(20, 2, R12, Rax, 12), "62c26d5850a4040c000000"); // vpdpbusd 0xc(%r12,%rax,1){1to16},%zmm2,%zmm20
        AssertBytes(a => a.LoadAt(1, Rsi, 0x100), "62f17f486f8e00010000");                           // vmovdqu8 0x100(%rsi),%zmm1
        AssertBytes(a => a.LoadAt(3, R12, 0), "62d17f486f9c2400000000");                             // vmovdqu8 0x0(%r12),%zmm3
        AssertBytes(a => a.SubtractInt32Broadcast(9, Rbx, 0x14), "62713558fa8b14000000");            // vpsubd 0x14(%rbx){1to16},%zmm9,%zmm9
        AssertBytes(a => a.SubtractInt32Broadcast(30, R12, 0), "62410d50fab42400000000");            // vpsubd 0x0(%r12){1to16},%zmm30,%zmm30
        AssertBytes(a => a.ConvertInt32ToSingle(30, 30), "62017c485bf6");                            // vcvtdq2ps %zmm30,%zmm30
        AssertBytes(a => a.ConvertInt32ToSingle(8, 8), "62517c485bc0");                              // vcvtdq2ps %zmm8,%zmm8
        AssertBytes(a => a.MultiplySingle(17, R14, 8, broadcast: true), "62c17450598e08000000");     // vmulps 0x8(%r14){1to16},%zmm17,%zmm17
        AssertBytes(a => a.MultiplySingle(17, R15, 0xc0, broadcast: false), "62c17440598fc0000000"); // vmulps 0xc0(%r15),%zmm17,%zmm17
        AssertBytes(a => a.MultiplySingle(8, Rbx, 0, broadcast: false), "62713c48598300000000");     // vmulps 0x0(%rbx),%zmm8,%zmm8
        // The 16-bit row kernel's: half-to-float widening from memory, float multiply-add from memory, the reduction's shuffles.
        AssertBytes(a => a.ConvertHalfToSingle(1, Rsi, 0x20), "62f27d48138e20000000");             // vcvtph2ps 0x20(%rsi),%zmm1
        AssertBytes(a => a.ConvertHalfToSingle(17, R12, 0), "62c27d48138c2400000000");             // vcvtph2ps 0x0(%r12),%zmm17
        AssertBytes(a => a.MultiplyAddSingle(3, 1, R9, 0x40), "62d27548b89940000000");             // vfmadd231ps 0x40(%r9),%zmm1,%zmm3
        AssertBytes(a => a.MultiplyAddSingle(2, 20, Rdi, 0), "62f25d40b89700000000");              // vfmadd231ps 0x0(%rdi),%zmm20,%zmm2
        AssertBytes(a => a.AddSingle(2, 2, 3), "62f16c4858d3");                                     // vaddps %zmm3,%zmm2,%zmm2
        AssertBytes(a => a.AddSingle(24, 8, 17), "62213c4858c1");                                   // vaddps %zmm17,%zmm8,%zmm24
        AssertBytes(a => a.ShuffleInt32(3, 2, 0x4e), "62f17d4870da4e");                             // vpshufd $0x4e,%zmm2,%zmm3
        AssertBytes(a => a.ShuffleInt32(9, 18, 0xb1), "62317d4870cab1");                            // vpshufd $0xb1,%zmm18,%zmm9
        AssertBytes(a => a.StoreScalarSingle(Rcx, 0, 2), "62f17e08119100000000");                   // {evex} vmovss %xmm2,0x0(%rcx)
        AssertBytes(a => a.StoreScalarSingle(R13, 8, 17), "62c17e08118d08000000");                  // vmovss %xmm17,0x8(%r13)
        AssertBytes(a => a.Move(R9, Rdi), "4989f9");                                                 // mov %rdi,%r9
        AssertBytes(a => a.Move(Rax, R10), "4c89d0");                                                // mov %r10,%rax
        AssertBytes(a => a.LoadRegister(Rdx, Rdi, 0x38), "488b9738000000");                          // mov 0x38(%rdi),%rdx
        AssertBytes(a => a.LoadRegister(R12, Rdi, 8), "4c8ba708000000");                             // mov 0x8(%rdi),%r12
        // A backward jump to the start of a 6-byte instruction: rel32 = −(6 + 6).
        AssertBytes(a => { a.Clear(Rax); a.Compare(Rax, Rdx); a.JumpIfBelow(0); }, "4831c04839d00f82f4ffffff");
    }

    [TestMethod]
    public unsafe void TheTileKernelGivesTheExactDotProductsWhereItRuns()
    {
        // The kernel assembles everywhere; where it runs (AVX512-VNNI, Linux x64) its sixteen sums are the exact integers.
        Assert.IsGreaterThan(200, Int8VnniTileKernel.Assemble().Length);
        if (!Int8VnniTileKernel.IsAvailable)
        {
            Assert.ThrowsExactly<PlatformNotSupportedException>(() => Int8VnniTileKernel.Run(null, null, 64, null));
            return;
        }
        const int kp = 192;
        var random = new Random(5);
        var w = new sbyte[8 * kp]; // four rows and more (the kernel prefetches rows further on; a prefetch never faults)
        for (int i = 0; i < w.Length; i++) w[i] = (sbyte)random.Next(-128, 128);
        foreach (int groups in new[] { 1, 3 })
        {
            // One call, a column of tiles: rows 4g to 4g + 3 of x against the same four weight rows; one spare group's totals
            // past the end must stay untouched.
            var x = new byte[4 * groups * kp];
            random.NextBytes(x);
            var totals = new int[(groups + 1) * Int8VnniTileKernel.Totals];
            Array.Fill(totals, -7);
            fixed (byte* px = x)
            fixed (sbyte* pw = w)
            fixed (int* pt = totals)
                Int8VnniTileKernel.Run(px, pw, kp, pt, groups);
            for (int r = 0; r < 4 * groups; r++)
                for (int c = 0; c < 4; c++)
                {
                    int expected = 0;
                    for (int k = 0; k < kp; k++) expected += x[r * kp + k] * w[c * kp + k];
                    Assert.AreEqual(expected, totals[16 * (r / 4) + 4 * (r % 4) + c], $"{groups} groups: row {r}, column {c}");
                }
            for (int t = groups * Int8VnniTileKernel.Totals; t < totals.Length; t++) Assert.AreEqual(-7, totals[t], $"{groups} groups: total {t}");
        }
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Int8VnniTileKernel.Run(null, null, 100, null));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Int8VnniTileKernel.Run(null, null, 64, null, 0));
    }

    [TestMethod]
    public unsafe void ThePanelKernelGivesTheScaledExactProductsForEveryShapeWhereItRuns()
    {
        // Every (rows, vectors) function assembles; where they run, each writes float(Σ x·(w + 128) − 128·Σ x)·xs·ws, i.e.
        // float(Σ x·w)·xs·ws bit for bit, over its rows and 16·vectors columns and nothing past them.
        for (int rows = 1; rows <= Int8VnniPanelKernel.MaxRows; rows++)
            for (int vectors = 1; vectors <= Int8VnniPanelKernel.MaxVectors; vectors++)
                Assert.IsGreaterThan(100, Int8VnniPanelKernel.Assemble(rows, vectors).Length);
        if (!Int8VnniPanelKernel.IsAvailable)
        {
            Assert.ThrowsExactly<PlatformNotSupportedException>(() => Int8VnniPanelKernel.Run(1, 1, null));
            return;
        }
        const int kp = 192, ldy = 80;
        var random = new Random(6);
        var w = new sbyte[Int8VnniPanelKernel.PanelColumns * kp];
        for (int i = 0; i < w.Length; i++) w[i] = (sbyte)random.Next(-128, 128);
        var x = new sbyte[Int8VnniPanelKernel.MaxRows * kp];
        for (int i = 0; i < x.Length; i++) x[i] = (sbyte)random.Next(-127, 128);
        var corrections = new int[Int8VnniPanelKernel.MaxRows];
        for (int r = 0; r < corrections.Length; r++)
            for (int k = 0; k < kp; k++) corrections[r] += 128 * x[r * kp + k];
        var xScales = Enumerable.Range(0, Int8VnniPanelKernel.MaxRows).Select(r => 0.01f + 0.003f * r).ToArray();
        var wScales = Enumerable.Range(0, Int8VnniPanelKernel.PanelColumns).Select(c => 0.02f - 0.0001f * c).ToArray();
        var panel = new byte[Int8VnniPanelKernel.PanelBytes(kp, Int8VnniPanelKernel.MaxVectors)];
        for (int vectors = 1; vectors <= Int8VnniPanelKernel.MaxVectors; vectors++)
        {
            // The last vector's columns only partly present: the missing ones must act as zero weights.
            int columns = 16 * vectors - 5;
            fixed (sbyte* pw = w)
            fixed (byte* pp = panel)
                Int8VnniPanelKernel.Pack(pw, kp, columns, vectors, pp);
            for (int rows = 1; rows <= Int8VnniPanelKernel.MaxRows; rows++)
            {
                var y = new float[(Int8VnniPanelKernel.MaxRows + 1) * ldy];
                Array.Fill(y, -7f);
                fixed (sbyte* px = x)
                fixed (byte* pp = panel)
                fixed (int* pc = corrections)
                fixed (float* pxs = xScales, pws = wScales, py = y)
                {
                    var arguments = new Int8VnniPanelKernel.Arguments
                    {
                        X = px, Kp = kp, Panel = pp, XCorrections = pc, XScales = pxs, WScales = pws, Y = py, LdyBytes = ldy * sizeof(float),
                    };
                    Int8VnniPanelKernel.Run(rows, vectors, &arguments);
                }
                for (int r = 0; r < y.Length / ldy; r++)
                    for (int c = 0; c < ldy; c++)
                    {
                        string where = $"{rows} rows, {vectors} vectors: y[{r}, {c}]";
                        if (r >= rows || c >= 16 * vectors)
                        {
                            Assert.AreEqual(-7f, y[r * ldy + c], where);
                            continue;
                        }
                        int total = 0;
                        for (int k = 0; k < kp; k++) total += x[r * kp + k] * (c < columns ? w[c * kp + k] : 0);
                        Assert.AreEqual(total * xScales[r] * wScales[c], y[r * ldy + c], where);
                    }
            }
        }
        var bad = (Int8VnniPanelKernel.Arguments*)System.Runtime.InteropServices.NativeMemory.AllocZeroed((nuint)sizeof(Int8VnniPanelKernel.Arguments));
        try
        {
            bad->Kp = 100;
            Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Int8VnniPanelKernel.Run(1, 1, bad));
            bad->Kp = 64;
            Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Int8VnniPanelKernel.Run(7, 1, bad));
            Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Int8VnniPanelKernel.Run(1, 5, bad));
        }
        finally
        {
            System.Runtime.InteropServices.NativeMemory.Free(bad);
        }
    }
}
