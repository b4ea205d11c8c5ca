namespace Peft.Fuzz.Tests;

/// <summary>
/// Every kept fuzz input — the minimized corpora and every crasher found — through its target: each must be accepted
/// or rejected with a documented exception and a message, as under afl (fuzz/README.md). A crasher fixed stays here.
/// </summary>
[TestClass]
public sealed class CorpusReplayTests
{
    private static string FuzzFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (Directory.Exists(Path.Combine(dir.FullName, "fuzz", "corpora"))) return Path.Combine(dir.FullName, "fuzz");
        throw new DirectoryNotFoundException("fuzz/corpora not found above the test's folder.");
    }

    private static IEnumerable<string> Inputs(string target) =>
        ((string[])["corpora", "crashers"]).Select(kind => Path.Combine(FuzzFolder(), kind, target)).Where(Directory.Exists)
            .SelectMany(folder => Directory.GetFiles(folder)).Where(f => Path.GetFileName(f) != "README.md").Order(StringComparer.Ordinal);

    public static IEnumerable<object[]> TargetNames => FuzzTargets.All.Select(t => new object[] { t.Name });

    [TestMethod]
    [DynamicData(nameof(TargetNames))]
    public void EveryKeptInputKeepsTheContract(string name)
    {
        var target = FuzzTargets.Named(name);
        var inputs = Inputs(name).ToArray();
        Assert.IsGreaterThan(0, inputs.Length, $"fuzz/corpora/{name} has inputs");
        var broken = new List<string>();
        int accepted = 0;
        foreach (string file in inputs)
        {
            try
            {
                if (target.Run(File.ReadAllBytes(file)) is null) accepted++;
            }
            catch (Exception e)
            {
                broken.Add($"{Path.GetRelativePath(FuzzFolder(), file)}: {e.GetType().Name}: {e.Message}\n{e.StackTrace}");
            }
        }
        Assert.AreEqual(0, broken.Count, $"{broken.Count} of {inputs.Length} inputs broke the contract:\n" + string.Join("\n\n", broken.Take(5)));
        if (Directory.GetFiles(Path.Combine(FuzzFolder(), "corpora", name)).Any(f => Path.GetFileName(f).StartsWith("seed-", StringComparison.Ordinal)))
            Assert.IsGreaterThan(0, accepted, "the seeds include valid inputs, which must be accepted");
    }

    [TestMethod]
    public void ATargetThatThrowsAnUndocumentedExceptionIsACrash()
    {
        var target = new FuzzTarget("probe", [typeof(FormatException)], input => _ = input[input.Length]);
        Assert.ThrowsExactly<IndexOutOfRangeException>(() => target.Run([1, 2]));
        var documented = new FuzzTarget("probe", [typeof(FormatException)], _ => throw new FormatException("bad"));
        Assert.IsInstanceOfType<FormatException>(documented.Run([]));
        var silent = new FuzzTarget("probe", [typeof(FormatException)], _ => throw new FormatException(""));
        Assert.ThrowsExactly<FormatException>(() => silent.Run([]), "a documented exception without a message is a crash too");
    }
}
