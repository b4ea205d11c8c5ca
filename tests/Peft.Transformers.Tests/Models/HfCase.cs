using System.Text.Json;
using Peft.Tensors;
using Peft.Transformers.SafeTensors;

namespace Peft.Transformers.Tests;

/// <summary>One case folder of ../shared/fixtures/hf: its case.json, expected tensors and tolerances.</summary>
internal sealed class HfCase : IDisposable
{
    public HfCase(string name)
    {
        Name = name;
        Folder = Fixtures.Hf(name);
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, "case.json")));
        Case = doc.RootElement.Clone();
        Expected = SafeTensorsFile.Open(Path.Combine(Folder, "expected.safetensors"));
    }

    public string Name { get; }

    public string Folder { get; }

    public JsonElement Case { get; }

    public SafeTensorsFile Expected { get; }

    public string BaseFolder => Path.Combine(Folder, Case.GetProperty("base_dir").GetString()!);

    public (double Atol, double Rtol) Tolerance(string kind)
    {
        var t = Case.GetProperty("tolerances").GetProperty(kind);
        return (t.GetProperty("atol").GetDouble(), t.GetProperty("rtol").GetDouble());
    }

    public IntTensor Ints(string name) => IntTensor.FromArray(Expected.ReadInt32(name), Expected.GetInfo(name).Shape);

    public float[] Floats(string name) => Expected.ReadFloat32(name);

    public bool Has(string name) => Expected.Contains(name);

    public void AssertClose(string name, ReadOnlySpan<float> actual, string kind)
    {
        var (atol, rtol) = Tolerance(kind);
        var expected = Floats(name);
        Assert.AreEqual(expected.Length, actual.Length, $"{Name} {name}: element count");
        double worst = 0;
        int worstAt = -1;
        for (int i = 0; i < expected.Length; i++)
        {
            double excess = Math.Abs(expected[i] - actual[i]) - (atol + rtol * Math.Abs(expected[i]));
            if (!(excess <= worst)) { worst = double.IsNaN(excess) ? double.PositiveInfinity : excess; worstAt = i; }
        }
        if (worstAt >= 0)
            Assert.Fail($"{Name} {name}: element {worstAt} expected {expected[worstAt]:G7} got {actual[worstAt]:G7} (atol {atol}, rtol {rtol})");
    }

    public void Dispose() => Expected.Dispose();
}
