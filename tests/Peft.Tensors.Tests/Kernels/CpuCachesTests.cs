using Peft.Tensors.Kernels;

namespace Peft.Tensors.Tests;

/// <summary>Reading the CPU's cache sizes from CPUID's cache leaves and from Linux's sysfs.</summary>
[TestClass]
public sealed class CpuCachesTests
{
    [TestMethod]
    public void DecodesTheDeterministicCacheLeaf()
    {
        // Level 1 data, 12 ways x 1 partition x 64-byte lines x 64 sets = 48 KiB (EAX also carries the self-initialising bit 8).
        var l1 = CpuCaches.DecodeCacheLeaf(1 | 1 << 5 | 1 << 8, 11 << 22 | 0 << 12 | 63, 63);
        Assert.AreEqual(new CpuCaches.CacheLevel(1, true, 48 * 1024), l1);
        // Level 2 unified, 16 ways x 64 B x 2048 sets = 2 MiB.
        Assert.AreEqual(new CpuCaches.CacheLevel(2, true, 2 * 1024 * 1024), CpuCaches.DecodeCacheLeaf(3 | 2 << 5, 15 << 22 | 63, 2047));
        // Level 1 instructions: not a data cache.
        Assert.IsFalse(CpuCaches.DecodeCacheLeaf(2 | 1 << 5, 7 << 22 | 63, 63)!.Value.IsData);
        // Type 0 ends the list.
        Assert.IsNull(CpuCaches.DecodeCacheLeaf(0, 0, 0));
    }

    [TestMethod]
    public void ParsesSysfsSizes()
    {
        Assert.AreEqual(32L * 1024, CpuCaches.ParseSize("32K"));
        Assert.AreEqual(2048L * 1024, CpuCaches.ParseSize("2048K"));
        Assert.AreEqual(32L << 20, CpuCaches.ParseSize("32M"));
        Assert.AreEqual(512L, CpuCaches.ParseSize("512"));
        Assert.IsNull(CpuCaches.ParseSize(""));
        Assert.IsNull(CpuCaches.ParseSize("K"));
        Assert.IsNull(CpuCaches.ParseSize("-4K"));
        Assert.IsNull(CpuCaches.ParseSize("lots"));
    }

    [TestMethod]
    public void ReadsALinuxCacheDirectory()
    {
        string root = Path.Combine(Path.GetTempPath(), "peft-caches-" + Guid.NewGuid().ToString("N"));
        try
        {
            Write(root, 0, 1, "Data", "48K");
            Write(root, 1, 1, "Instruction", "32K");
            Write(root, 2, 2, "Unified", "2048K");
            Write(root, 3, 3, "Unified", "261120K");
            Directory.CreateDirectory(Path.Combine(root, "index4")); // incomplete entries are passed over
            var caches = CpuCaches.FromSysfs(root);
            Assert.IsNotNull(caches);
            Assert.AreEqual(48 * 1024, caches.Value.L1Data);
            Assert.AreEqual(2048 * 1024, caches.Value.L2);
            Assert.AreEqual(261120L * 1024, caches.Value.L3);
            Assert.AreEqual("sysfs", caches.Value.Source);

            // Without an L2 the description is unusable: null, so the caller falls back.
            Directory.Delete(Path.Combine(root, "index2"), recursive: true);
            Assert.IsNull(CpuCaches.FromSysfs(root));
        }
        finally
        {
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
        Assert.IsNull(CpuCaches.FromSysfs(root));
    }

    [TestMethod]
    public void CpuIdAndSysfsAgreeOnThisMachine()
    {
        var current = CpuCaches.Current;
        Assert.IsGreaterThan(0, current.L1Data, current.ToString());
        Assert.IsGreaterThanOrEqualTo(current.L1Data, current.L2, current.ToString());
        // Linux fills sysfs from the same CPUID leaves; where both exist they must describe the same caches.
        if (CpuCaches.FromCpuId() is { } cpuid && CpuCaches.FromSysfs("/sys/devices/system/cpu/cpu0/cache") is { } sysfs)
        {
            Assert.AreEqual(sysfs.L1Data, cpuid.L1Data, $"{cpuid} against {sysfs}");
            Assert.AreEqual(sysfs.L2, cpuid.L2, $"{cpuid} against {sysfs}");
            Assert.AreEqual(cpuid, current);
        }
    }

    [TestMethod]
    public void DecodesAmdsLegacyCacheLeaves()
    {
        // Read off a Zen 5 EPYC guest whose hypervisor hides leaf 0x8000001D: 48 KiB L1d, 1 MiB L2, 1016 x 512 KiB L3.
        var zen5 = CpuCaches.DecodeAmdLegacyLeaves("AuthenticAMD", 0x300c0140, 0x04006140, 0x0fe09140);
        Assert.AreEqual(new CpuCaches("AuthenticAMD", 48 * 1024, 1024 * 1024, 508L * 1024 * 1024, "cpuid 0x80000005/6"), zen5);
        // A Zen 4 core: 32 KiB L1d, 1 MiB L2, 32 MiB L3 (64 units in EDX 31-18; the low bits are ways and line size).
        var zen4 = CpuCaches.DecodeAmdLegacyLeaves("AuthenticAMD", 0x20080140, 0x04006140, (64 << 18) | 0x9140);
        Assert.AreEqual((32 * 1024, 1024 * 1024, 32L * 1024 * 1024), (zen4!.Value.L1Data, zen4.Value.L2, zen4.Value.L3));
        // Zeroed leaves (a hypervisor that hides them too) describe nothing: the next source is tried.
        Assert.IsNull(CpuCaches.DecodeAmdLegacyLeaves("AuthenticAMD", 0, 0x04006140, 0));
        Assert.IsNull(CpuCaches.DecodeAmdLegacyLeaves("AuthenticAMD", 0x300c0140, 0, 0));
    }

    [TestMethod]
    public void KeepsTheVendorWhicheverWayTheSizesWereFound()
    {
        if (!System.Runtime.Intrinsics.X86.X86Base.IsSupported) return; // the vendor string is an x86 notion
        var current = CpuCaches.Current;
        // The blocking depends on the vendor, so a hidden cache leaf must not turn an Intel or AMD CPU into an unknown one.
        Assert.IsGreaterThan(0, current.Vendor.Length, current.ToString());
        if (current.Vendor is "AuthenticAMD" or "HygonGenuine")
        {
            Assert.AreNotEqual("assumed", current.Source, current.ToString());
            // Where both AMD leaves answer they describe the same L1 and L2.
            if (CpuCaches.FromCpuId() is { } topology && CpuCaches.FromAmdLegacyLeaves() is { } legacy)
                Assert.AreEqual((topology.L1Data, topology.L2), (legacy.L1Data, legacy.L2), $"{topology} against {legacy}");
        }
    }

    private static void Write(string root, int index, int level, string type, string size)
    {
        string dir = Path.Combine(root, $"index{index}");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "level"), $"{level}\n");
        File.WriteAllText(Path.Combine(dir, "type"), $"{type}\n");
        File.WriteAllText(Path.Combine(dir, "size"), $"{size}\n");
    }
}
