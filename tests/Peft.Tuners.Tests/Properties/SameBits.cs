namespace Peft.Tuners.Tests.Properties;

/// <summary>Bit-for-bit comparisons for round-trip laws: NaN payloads, -0 and subnormals must survive too, so float equality will not do.</summary>
internal static class SameBits
{
    public static void Floats(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what)
    {
        Assert.AreEqual(expected.Length, actual.Length, $"{what}: length");
        for (int i = 0; i < expected.Length; i++)
        {
            uint e = BitConverter.SingleToUInt32Bits(expected[i]), a = BitConverter.SingleToUInt32Bits(actual[i]);
            if (e != a) Assert.Fail($"{what}: element {i} is {actual[i]:R} (0x{a:X8}), expected {expected[i]:R} (0x{e:X8}).");
        }
    }

    /// <summary>The same double bit for bit (-0 is not 0), except that any NaN matches any NaN: JSON text keeps no NaN payload.</summary>
    public static void Double(double? expected, double? actual, string what)
    {
        if (expected is double x && actual is double y && double.IsNaN(x) && double.IsNaN(y)) return;
        ulong? e = expected is double ex ? BitConverter.DoubleToUInt64Bits(ex) : null, a = actual is double ay ? BitConverter.DoubleToUInt64Bits(ay) : null;
        if (e != a) Assert.Fail($"{what}: {actual:R} (0x{a:X16}), expected {expected:R} (0x{e:X16}).");
    }
}
