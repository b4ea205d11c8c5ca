using System.Globalization;
using System.Runtime.Intrinsics.X86;

namespace Peft.Tensors.Kernels;

/// <summary>
/// The data caches one core sees, as the GEMM's cache blocking needs them: L1 data and L2 per core, and the
/// last-level cache's whole size. Read once from CPUID (Intel's leaf 4, AMD's leaf 0x8000001D; on AMD, when a
/// hypervisor hides that leaf, the older 0x80000005/0x80000006), else from Linux's sysfs, else assumed
/// (<see cref="Assumed"/>). The vendor is CPUID's whichever way the sizes were found, since the blocking depends on it.
/// </summary>
/// <param name="Vendor">CPUID's vendor string ("GenuineIntel", "AuthenticAMD"), or "" when unknown.</param>
/// <param name="L1Data">Bytes of L1 data cache per core.</param>
/// <param name="L2">Bytes of L2 per core.</param>
/// <param name="L3">Bytes of the last-level cache (0 when there is none).</param>
/// <param name="Source">Where the figures came from: "cpuid", "cpuid 0x80000005/6", "sysfs" or "assumed".</param>
internal readonly record struct CpuCaches(string Vendor, int L1Data, int L2, long L3, string Source)
{
    /// <summary>What a CPU without readable cache descriptions is taken to have (a common desktop/server core).</summary>
    public static CpuCaches Assumed { get; } = new("", 32 * 1024, 1024 * 1024, 32L * 1024 * 1024, "assumed");

    private static readonly Lazy<CpuCaches> s_current = new(Detect);

    /// <summary>This machine's caches, detected on first use.</summary>
    public static CpuCaches Current => s_current.Value;

    /// <summary>Whether the CPU is an Intel one (its vendor string).</summary>
    public bool IsIntel => Vendor == "GenuineIntel";

    /// <inheritdoc />
    public override string ToString() =>
        $"{(Vendor.Length > 0 ? Vendor : "unknown vendor")}: L1d {L1Data / 1024} KiB, L2 {L2 / 1024} KiB, L3 {L3 / (1024 * 1024)} MiB ({Source})";

    private static CpuCaches Detect()
    {
        if (FromCpuId() is { } cpuid) return cpuid;
        if (FromAmdLegacyLeaves() is { } legacy) return legacy;
        string vendor = X86Base.IsSupported ? VendorString() : "";
        if (FromSysfs("/sys/devices/system/cpu/cpu0/cache") is { } sysfs) return sysfs with { Vendor = vendor };
        return Assumed with { Vendor = vendor };
    }

    /// <summary>The caches CPUID describes, or null when it describes no L1 data and L2 cache (or is not x86).</summary>
    internal static CpuCaches? FromCpuId()
    {
        if (!X86Base.IsSupported) return null;
        int maxLeaf = X86Base.CpuId(0, 0).Eax;
        string vendor = VendorString();
        int leaf;
        if (vendor == "GenuineIntel" && maxLeaf >= 4) leaf = 4;
        else if (vendor is "AuthenticAMD" or "HygonGenuine" && HasAmdTopologyLeaf()) leaf = unchecked((int)0x8000001D);
        else return null;

        var levels = new List<CacheLevel>();
        // Sub-leaves run until a null cache type; 16 bounds a broken hypervisor's answer.
        for (int sub = 0; sub < 16; sub++)
        {
            var (eax, ebx, ecx, _) = X86Base.CpuId(leaf, sub);
            if (DecodeCacheLeaf(eax, ebx, ecx) is not { } level) break;
            levels.Add(level);
        }
        return FromLevels(vendor, levels, "cpuid");
    }

    /// <summary>
    /// The caches AMD's older extended leaves describe (0x80000005 for L1, 0x80000006 for L2 and L3), or null when the
    /// CPU is not an AMD/Hygon one or the leaves are missing or empty. Cloud hypervisors that hide leaf 0x8000001D
    /// (and its TopologyExtensions bit) still pass these through.
    /// </summary>
    internal static CpuCaches? FromAmdLegacyLeaves()
    {
        if (!X86Base.IsSupported) return null;
        string vendor = VendorString();
        if (vendor is not ("AuthenticAMD" or "HygonGenuine")) return null;
        if ((uint)X86Base.CpuId(unchecked((int)0x80000000), 0).Eax < 0x80000006) return null;
        int l1 = X86Base.CpuId(unchecked((int)0x80000005), 0).Ecx;
        var (_, _, l2, l3) = X86Base.CpuId(unchecked((int)0x80000006), 0);
        return DecodeAmdLegacyLeaves(vendor, l1, l2, l3);
    }

    /// <summary>
    /// Decodes AMD's legacy cache leaves: 0x80000005 ECX bits 31-24 the L1 data cache in KiB; 0x80000006 ECX bits 31-16
    /// the L2 in KiB and EDX bits 31-18 the L3 in 512 KiB units. Null when L1 or L2 reads as zero.
    /// </summary>
    internal static CpuCaches? DecodeAmdLegacyLeaves(string vendor, int l1Ecx, int l2Ecx, int l3Edx)
    {
        long l1 = ((uint)l1Ecx >> 24) * 1024L, l2 = ((uint)l2Ecx >> 16) * 1024L, l3 = ((uint)l3Edx >> 18) * 512L * 1024;
        return FromLevels(vendor, [new(1, true, l1), new(2, true, l2), new(3, true, l3)], "cpuid 0x80000005/6");
    }

    private static bool HasAmdTopologyLeaf()
    {
        if ((uint)X86Base.CpuId(unchecked((int)0x80000000), 0).Eax < 0x8000001D) return false;
        return (X86Base.CpuId(unchecked((int)0x80000001), 0).Ecx & (1 << 22)) != 0; // TopologyExtensions
    }

    private static string VendorString()
    {
        var (_, ebx, ecx, edx) = X86Base.CpuId(0, 0);
        Span<byte> bytes = stackalloc byte[12];
        BitConverter.TryWriteBytes(bytes, ebx);
        BitConverter.TryWriteBytes(bytes[4..], edx);
        BitConverter.TryWriteBytes(bytes[8..], ecx);
        return System.Text.Encoding.ASCII.GetString(bytes);
    }

    /// <summary>One cache of a deterministic cache-parameters leaf.</summary>
    /// <param name="Level">1, 2, 3...</param>
    /// <param name="IsData">A data or unified cache (not instructions only).</param>
    /// <param name="Bytes">Its size.</param>
    internal readonly record struct CacheLevel(int Level, bool IsData, long Bytes);

    /// <summary>
    /// Decodes one sub-leaf of CPUID leaf 4 (Intel) or 0x8000001D (AMD), which share a layout: EAX bits 4-0 the type
    /// (0 none, 1 data, 2 instruction, 3 unified), 7-5 the level; EBX ways-1 (31-22), partitions-1 (21-12), line
    /// bytes-1 (11-0); ECX sets-1. Null for the terminating "no cache" entry.
    /// </summary>
    internal static CacheLevel? DecodeCacheLeaf(int eax, int ebx, int ecx)
    {
        int type = eax & 0x1F;
        if (type == 0) return null;
        int level = (eax >> 5) & 0x7;
        long ways = ((uint)ebx >> 22) + 1L, partitions = ((ebx >> 12) & 0x3FF) + 1L, line = (ebx & 0xFFF) + 1L;
        long sets = (uint)ecx + 1L;
        return new CacheLevel(level, type != 2, ways * partitions * line * sets);
    }

    /// <summary>
    /// Reads a Linux cache directory (cpu0's: index0, index1... each with level, type and size such as "48K"),
    /// or null when it is missing or lists no L1 data and L2 cache.
    /// </summary>
    internal static CpuCaches? FromSysfs(string cacheDirectory)
    {
        if (!Directory.Exists(cacheDirectory)) return null;
        var levels = new List<CacheLevel>();
        try
        {
            foreach (string index in Directory.EnumerateDirectories(cacheDirectory, "index*"))
            {
                string levelFile = Path.Combine(index, "level"), typeFile = Path.Combine(index, "type"), sizeFile = Path.Combine(index, "size");
                if (!File.Exists(levelFile) || !File.Exists(typeFile) || !File.Exists(sizeFile)) continue;
                if (!int.TryParse(File.ReadAllText(levelFile).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int level)) continue;
                if (ParseSize(File.ReadAllText(sizeFile).Trim()) is not { } bytes) continue;
                levels.Add(new CacheLevel(level, File.ReadAllText(typeFile).Trim() != "Instruction", bytes));
            }
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
        return FromLevels("", levels, "sysfs");
    }

    /// <summary>A sysfs size ("32K", "2048K", "32M" or plain bytes) in bytes, or null when unreadable.</summary>
    internal static long? ParseSize(string text)
    {
        if (text.Length == 0) return null;
        long unit = char.ToUpperInvariant(text[^1]) switch { 'K' => 1024L, 'M' => 1024L * 1024, 'G' => 1024L * 1024 * 1024, _ => 1L };
        string digits = unit == 1 ? text : text[..^1];
        return long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out long value) && value > 0 ? value * unit : null;
    }

    private static CpuCaches? FromLevels(string vendor, List<CacheLevel> levels, string source)
    {
        long l1 = 0, l2 = 0, l3 = 0;
        foreach (var c in levels)
        {
            if (!c.IsData) continue;
            if (c.Level == 1) l1 = c.Bytes;
            else if (c.Level == 2) l2 = c.Bytes;
            else if (c.Level >= 3) l3 = Math.Max(l3, c.Bytes);
        }
        if (l1 <= 0 || l2 <= 0 || l1 > int.MaxValue || l2 > int.MaxValue) return null;
        return new CpuCaches(vendor, (int)l1, (int)l2, l3, source);
    }
}
