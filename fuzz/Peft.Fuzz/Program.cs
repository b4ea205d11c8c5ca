using Peft.Fuzz;
using SharpFuzz;

// peft-fuzz TARGET                 run under afl-fuzz (fuzz/run.sh): one input per iteration from afl
// peft-fuzz replay TARGET FILE...  run files through a target and report each outcome (no afl)
// peft-fuzz list                   the targets
if (args is ["list"])
{
    foreach (var target in FuzzTargets.All) Console.WriteLine(target.Name);
    return 0;
}
if (args is ["replay", string name, .. var files])
{
    var target = FuzzTargets.Named(name);
    foreach (string file in files)
    {
        var outcome = target.Run(File.ReadAllBytes(file));
        Console.WriteLine($"{file}: {(outcome is null ? "accepted" : outcome.GetType().Name + ": " + outcome.Message)}");
    }
    return 0;
}
if (args is [string only])
{
    var target = FuzzTargets.Named(only);
    // SharpFuzz reports an escaping exception to afl as a crash without showing it; PEFT_FUZZ_LOG=FILE keeps each one
    // (with the input's SHA-1) for inputs that crash under afl but not on replay.
    string? log = Environment.GetEnvironmentVariable("PEFT_FUZZ_LOG");
    // Out of process: afl's forkserver starts this once and feeds inputs on stdin, each run in a fresh child.
    Fuzzer.OutOfProcess.Run(stream =>
    {
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        byte[] input = buffer.ToArray();
        try
        {
            target.Run(input);
        }
        catch (Exception e) when (log is not null)
        {
            File.AppendAllText(log, $"--- {Convert.ToHexString(System.Security.Cryptography.SHA1.HashData(input))}\n{e}\n");
            throw;
        }
    });
    return 0;
}
Console.Error.WriteLine("usage: peft-fuzz TARGET | replay TARGET FILE... | list");
return 2;
