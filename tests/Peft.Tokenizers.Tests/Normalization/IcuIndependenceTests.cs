using System.Diagnostics;
using System.Globalization;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Text;
using Peft.Tokenizers.Normalization;

namespace Peft.Tokenizers.Tests.Normalization;

/// <summary>The normalizer needs no ICU: it never calls .NET's normalization, agrees with ICU where ICU is present, and gives the same results under InvariantGlobalization.</summary>
[TestClass]
public sealed class IcuIndependenceTests
{
    private static readonly NormalizationForm[] Forms = [NormalizationForm.FormC, NormalizationForm.FormD, NormalizationForm.FormKC, NormalizationForm.FormKD];

    private static bool IcuNormalizes => "e\u0301".Normalize(NormalizationForm.FormC) == "\u00E9";

    [TestMethod]
    public void TheLibraryNeverCallsStringNormalize()
    {
        using var stream = File.OpenRead(typeof(Tokenizer).Assembly.Location);
        using var pe = new PEReader(stream);
        var md = pe.GetMetadataReader();
        var calls = new List<string>();
        foreach (var handle in md.MemberReferences)
        {
            var member = md.GetMemberReference(handle);
            string name = md.GetString(member.Name);
            if (member.Parent.Kind != HandleKind.TypeReference) continue;
            var type = md.GetTypeReference((TypeReferenceHandle)member.Parent);
            string typeName = md.GetString(type.Namespace) + "." + md.GetString(type.Name);
            if (typeName == "System.String" && name is "Normalize" or "IsNormalized") calls.Add($"{typeName}.{name}");
            if (typeName.StartsWith("System.Globalization.", StringComparison.Ordinal) && name.Contains("Normaliz", StringComparison.Ordinal)) calls.Add($"{typeName}.{name}");
        }
        Assert.AreEqual(0, calls.Count, "ICU-backed normalization is called: " + string.Join(", ", calls));
    }

    /// <summary>Code points newer than the ICU this may run on (Unicode 15.0 for ICU 72): ICU leaves them alone.</summary>
    private static List<(int From, int To)> NewerThanIcu()
    {
        var ranges = new List<(int, int)>();
        foreach (string line in File.ReadLines(NormalizationConformanceTests.DataFile("AssignedAfterUnicode15.txt")))
        {
            if (line.StartsWith('#') || line.Length == 0) continue;
            var parts = line.Split("..");
            int from = int.Parse(parts[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            ranges.Add((from, parts.Length > 1 ? int.Parse(parts[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture) : from));
        }
        return ranges;
    }

    [TestMethod]
    public void MatchesIcuOnEveryCodePointAndOnRandomText()
    {
        if (!IcuNormalizes) Assert.Inconclusive("No ICU in this process (InvariantGlobalization): nothing to cross-check.");
        var newer = NewerThanIcu();
        bool Known(int cp) => !newer.Any(r => cp >= r.From && cp <= r.To);
        var failures = new List<string>();
        var interesting = new List<string>();
        for (int cp = 0; cp <= 0x10FFFF; cp++)
        {
            if (cp is >= 0xD800 and <= 0xDFFF || !Known(cp)) continue;
            string s = char.ConvertFromUtf32(cp);
            if (!IcuAccepts(s)) continue;
            bool changes = false;
            foreach (var form in Forms)
            {
                string icu = s.Normalize(form), ours = UnicodeNormalization.Normalize(s, form);
                if (icu != ours) failures.Add($"{form}(U+{cp:X4}): ICU {NormalizationConformanceTests.Hex(icu)}, ours {NormalizationConformanceTests.Hex(ours)}");
                changes |= icu != s;
            }
            if (changes || UnicodeNormalizationData.Ccc(cp) != 0 || cp is >= 0x1100 and <= 0x11FF) interesting.Add(s);
        }

        // Random mixes of characters that decompose, reorder or compose, with ASCII and Hangul jamo between.
        var random = new Random(20261206);
        string[] filler = ["a", "e", "o", "A", " ", "<", "=", ">", "\u1100", "\u1161", "\u11A8", "\u0B47", "\u0CC6"];
        var text = new StringBuilder();
        for (int n = 0; n < 30000; n++)
        {
            text.Clear();
            int length = random.Next(1, 12);
            for (int k = 0; k < length; k++) text.Append(random.Next(3) == 0 ? filler[random.Next(filler.Length)] : interesting[random.Next(interesting.Count)]);
            string s = text.ToString();
            foreach (var form in Forms)
            {
                string icu = s.Normalize(form), ours = UnicodeNormalization.Normalize(s, form);
                if (icu != ours) failures.Add($"{form}({NormalizationConformanceTests.Hex(s)}): ICU {NormalizationConformanceTests.Hex(icu)}, ours {NormalizationConformanceTests.Hex(ours)}");
            }
        }
        Assert.IsGreaterThan(5000, interesting.Count);
        Assert.AreEqual(0, failures.Count, $"{failures.Count} differences from ICU:\n" + string.Join("\n", failures.Take(20)));
    }

    /// <summary>.NET's ICU path rejects some code points (unassigned ones) instead of passing them through.</summary>
    private static bool IcuAccepts(string s)
    {
        try
        {
            s.Normalize(NormalizationForm.FormD);
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    [TestMethod]
    [Timeout(300_000, CooperativeCancellation = true)]
    public void GivesTheSameResultsInAnInvariantGlobalizationProcess()
    {
        // A child process with DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1 (F# interactive from the SDK that runs these tests)
        // normalizes samples through the library and tokenizes with an NFC tokenizer; the output must equal this process's.
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        string[] samples = ["e\u0301", "\u1100\u1161\u11A8", "\u212B", "\uFB01", "x\u0323\u0307\u0301", "\u2460\u00BD\u2163", "\uF900", "\u0958", "\uFF21\u3000", "\uD55C\u1100\u1161"];
        string dir = Directory.CreateTempSubdirectory("peft-invariant-").FullName;
        try
        {
            string library = typeof(Tokenizer).Assembly.Location;
            string qwen = Path.Combine(TokenizerFixtureTests.Folder("qwen3"), "tokenizer.json");
            string Escape(string s) => string.Concat(s.Select(c => $"\\u{(int)c:X4}"));
            var script = new StringBuilder();
            // Peft.Tokenizers' Tokenizer derives from ML.NET's: the script needs that assembly too.
            script.AppendLine($"#r @\"{typeof(Microsoft.ML.Tokenizers.Tokenizer).Assembly.Location}\"");
            script.AppendLine($"#r @\"{library}\"");
            script.AppendLine("let ty = typeof<Peft.Tokenizers.Tokenizer>.Assembly.GetType(\"Peft.Tokenizers.Normalization.UnicodeNormalization\")");
            script.AppendLine("let normalize = ty.GetMethod(\"Normalize\", [| typeof<string>; typeof<System.Text.NormalizationForm>; typeof<int> |])");
            script.AppendLine("let latest = ty.Assembly.GetType(\"Peft.Tokenizers.Normalization.UnicodeNormalizationData\").GetField(\"LatestAge\").GetRawConstantValue()");
            script.AppendLine("printfn \"icu=%b\" (\"e\\u0301\".Normalize(System.Text.NormalizationForm.FormC) = \"\\u00e9\")");
            script.AppendLine($"let qwen = Peft.Tokenizers.Tokenizer.Load(@\"{qwen}\")");
            script.AppendLine("for s in [ " + string.Join("; ", samples.Select(s => $"\"{Escape(s)}\"")) + " ] do");
            script.AppendLine("    for f in [ System.Text.NormalizationForm.FormC; System.Text.NormalizationForm.FormD; System.Text.NormalizationForm.FormKC; System.Text.NormalizationForm.FormKD ] do");
            script.AppendLine("        let r = normalize.Invoke(null, [| box s; box f; latest |]) :?> string");
            script.AppendLine("        printfn \"%s\" (System.String.Join(\" \", r |> Seq.map (fun c -> (int c).ToString(\"X4\"))))");
            script.AppendLine("    printfn \"%s\" (System.String.Join(\",\", qwen.Encode(s, false).Ids))");
            string scriptPath = Path.Combine(dir, "invariant.fsx");
            File.WriteAllText(scriptPath, script.ToString());

            var start = new ProcessStartInfo(dotnet, ["fsi", "--quiet", "--exec", scriptPath])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = dir,
            };
            start.Environment["DOTNET_SYSTEM_GLOBALIZATION_INVARIANT"] = "1";
            start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
            Process process;
            try
            {
                process = Process.Start(start)!;
            }
            catch (System.ComponentModel.Win32Exception ex)
            {
                Assert.Inconclusive($"No dotnet to start a child process ({ex.Message}).");
                return;
            }
            using (process)
            {
                var stderr = process.StandardError.ReadToEndAsync();
                string output = process.StandardOutput.ReadToEnd();
                process.WaitForExit();
                Assert.AreEqual(0, process.ExitCode, "dotnet fsi failed: " + stderr.Result);

                var expected = new List<string> { "icu=false" };
                var tokenizer = TokenizerFixtureTests.Get("qwen3");
                foreach (string s in samples)
                {
                    foreach (var form in Forms)
                        expected.Add(string.Join(" ", UnicodeNormalization.Normalize(s, form).Select(c => ((int)c).ToString("X4", CultureInfo.InvariantCulture))));
                    expected.Add(string.Join(",", tokenizer.Encode(s, false).Ids));
                }
                CollectionAssert.AreEqual(expected, output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            }
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
