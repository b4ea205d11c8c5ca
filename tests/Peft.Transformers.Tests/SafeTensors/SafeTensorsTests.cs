using System.Text;
using Peft.Transformers.SafeTensors;

namespace Peft.Transformers.Tests;

[TestClass]
public sealed class SafeTensorsTests
{
    private static string TempPath() => Path.Combine(Path.GetTempPath(), $"peft-st-{Guid.NewGuid():N}.safetensors");

    [TestMethod]
    public void ReadsHuggingFaceFixtureAndRewritesItByteForByte()
    {
        string source = Fixtures.Hf("gpt2_base", "base", "model.safetensors");
        string copy = TempPath();
        try
        {
            using (var file = SafeTensorsFile.Open(source))
            {
                Assert.AreEqual("pt", file.Metadata["format"]);
                var wte = file.GetInfo("transformer.wte.weight");
                CollectionAssert.AreEqual(new[] { 128, 32 }, wte.Shape);
                Assert.AreEqual(SafeTensorDType.F32, wte.DType);
                var entries = file.Tensors.Values.Select(t => new SafeTensorWriteEntry(t.Name, t.DType, t.Shape, file.GetBytes(t.Name).ToArray())).ToList();
                SafeTensorsWriter.Write(copy, entries, file.Metadata);
            }
            CollectionAssert.AreEqual(File.ReadAllBytes(source), File.ReadAllBytes(copy));
        }
        finally
        {
            File.Delete(copy);
        }
    }

    [TestMethod]
    public void ConvertsHalfAndBFloat16ToFloat32()
    {
        float[] values = [1f, -2.5f, 0.15625f, 65504f];
        var half = values.SelectMany(v => BitConverter.GetBytes((Half)v)).ToArray();
        var bf16 = values.SelectMany(v => BitConverter.GetBytes((ushort)(BitConverter.SingleToInt32Bits(v) >> 16))).ToArray();
        string path = TempPath();
        try
        {
            SafeTensorsWriter.Write(path, [new("h", SafeTensorDType.F16, [4], half), new("b", SafeTensorDType.BF16, [2, 2], bf16)]);
            using var file = SafeTensorsFile.Open(path);
            CollectionAssert.AreEqual(values, file.ReadFloat32("h"));
            // bf16 keeps 8 mantissa bits: these values are exact except 65504 -> 65280.
            CollectionAssert.AreEqual(new[] { 1f, -2.5f, 0.15625f, 65280f }, file.ReadFloat32("b"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void LargeTensorsReadFromDiskEqualTheInMemoryImage()
    {
        // Files are read with positioned reads (half types in chunks of 2^18 elements); an in-memory
        // image is read from its bytes: both must agree, across chunk boundaries and at odd offsets.
        const int n = 600_001;
        var rng = new Random(3);
        var floats = new byte[4 * n];
        var halves = new byte[2 * n];
        var bf16 = new byte[2 * n];
        for (int i = 0; i < n; i++)
        {
            float v = (float)(rng.NextDouble() * 200 - 100);
            BitConverter.TryWriteBytes(floats.AsSpan(4 * i), v);
            BitConverter.TryWriteBytes(halves.AsSpan(2 * i), (Half)v);
            BitConverter.TryWriteBytes(bf16.AsSpan(2 * i), (ushort)(BitConverter.SingleToInt32Bits(v) >> 16));
        }
        string path = TempPath();
        try
        {
            SafeTensorsWriter.Write(path, [new("odd", SafeTensorDType.F16, [1], halves[..2]), new("f", SafeTensorDType.F32, [n], floats),
                new("h", SafeTensorDType.F16, [n], halves), new("b", SafeTensorDType.BF16, [n], bf16)]);
            using var file = SafeTensorsFile.Open(path);
            using var image = SafeTensorsFile.FromBytes(File.ReadAllBytes(path));
            foreach (var name in new[] { "f", "h", "b" })
                CollectionAssert.AreEqual(image.ReadFloat32(name), file.ReadFloat32(name), name);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static byte[] Image(string headerJson, int dataBytes)
    {
        var header = Encoding.UTF8.GetBytes(headerJson);
        return [.. BitConverter.GetBytes((ulong)header.Length), .. header, .. new byte[dataBytes]];
    }

    [TestMethod]
    [DataRow("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4, "past the")]
    [DataRow("{\"a\":{\"dtype\":\"Q7\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "unsupported dtype 'Q7'")]
    [DataRow("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, "needs 12")]
    [DataRow("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
        12, "overlapping")]
    [DataRow("{\"a\":{\"dtype\":\"F32\",", 8, "not valid JSON")]
    [DataRow("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,8]}}", 8, "invalid shape")]
    [DataRow("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[false,8]}}", 8, "invalid data_offsets")]
    [DataRow("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,\"8\"]}}", 8, "invalid data_offsets")]
    public void CorruptHeadersFailWithAClearMessage(string header, int dataBytes, string expected)
    {
        var ex = Assert.ThrowsExactly<SafeTensorsFormatException>(() => SafeTensorsFile.FromBytes(Image(header, dataBytes), "bad.safetensors"));
        StringAssert.Contains(ex.Message, expected);
        StringAssert.StartsWith(ex.Message, "bad.safetensors: ");
    }

    [TestMethod]
    public void TruncatedFilesAndBadLengthPrefixesFail()
    {
        Assert.ThrowsExactly<SafeTensorsFormatException>(() => SafeTensorsFile.FromBytes([1, 2, 3]));
        var huge = BitConverter.GetBytes(ulong.MaxValue).Concat(new byte[16]).ToArray();
        StringAssert.Contains(Assert.ThrowsExactly<SafeTensorsFormatException>(() => SafeTensorsFile.FromBytes(huge)).Message, "header length");
        var past = BitConverter.GetBytes(1000UL).Concat(new byte[16]).ToArray();
        StringAssert.Contains(Assert.ThrowsExactly<SafeTensorsFormatException>(() => SafeTensorsFile.FromBytes(past)).Message, "runs past the end");

        string path = TempPath();
        try
        {
            SafeTensorsWriter.Write(path, [SafeTensorWriteEntry.Float32("w", new float[64], 8, 8)]);
            var bytes = File.ReadAllBytes(path);
            File.WriteAllBytes(path, bytes[..^10]);
            var ex = Assert.ThrowsExactly<SafeTensorsFormatException>(() => SafeTensorsFile.Open(path));
            StringAssert.Contains(ex.Message, path);
        }
        finally
        {
            File.Delete(path);
        }
        Assert.ThrowsExactly<FileNotFoundException>(() => SafeTensorsFile.Open(path));
    }

    [TestMethod]
    public void WriterRejectsMismatchedDataAndLeavesNoFile()
    {
        string path = TempPath();
        Assert.ThrowsExactly<ArgumentException>(() => SafeTensorsWriter.Write(path, [new SafeTensorWriteEntry("w", SafeTensorDType.F32, [3], new byte[8])]));
        Assert.IsFalse(File.Exists(path));
        Assert.IsFalse(Directory.GetFiles(Path.GetTempPath(), $".{Path.GetFileName(path)}*").Any());
    }

    [TestMethod]
    public void IntegerTensorsReadAsInt32()
    {
        string path = TempPath();
        try
        {
            SafeTensorsWriter.Write(path, [SafeTensorWriteEntry.Int64("ids", [5, -100, 7, 0], 2, 2), SafeTensorWriteEntry.Int64("big", [1L << 40], 1)]);
            using var file = SafeTensorsFile.Open(path);
            CollectionAssert.AreEqual(new[] { 5, -100, 7, 0 }, file.ReadInt32("ids"));
            StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => file.ReadInt32("big")).Message, "int32 range");
            StringAssert.Contains(Assert.ThrowsExactly<KeyNotFoundException>(() => file.GetInfo("nope")).Message, "'nope'");
        }
        finally
        {
            File.Delete(path);
        }
    }
}
