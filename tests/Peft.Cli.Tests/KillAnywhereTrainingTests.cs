using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Peft.MLNet.Tests;
using Peft.Transformers.SafeTensors;

namespace Peft.Cli.Tests;

/// <summary>
/// <c>peft train</c> in a child process, SIGKILLed again and again at seeded-random moments (some while a checkpoint or the
/// adapter is being written) and restarted with <c>--resume</c>, ends with the weights of an uninterrupted run, bit for bit.
/// </summary>
[TestClass]
public sealed partial class KillAnywhereTrainingTests
{
    private const int Steps = 16;
    private const string Checkpoint = "checkpoint";
    private static readonly TimeSpan ProcessTimeout = TimeSpan.FromMinutes(3);

    public TestContext TestContext { get; set; } = null!;

    /// <summary>Where the kill lands, decided by something the test observes in the child (never by elapsed time alone).</summary>
    private enum KillAt
    {
        /// <summary>As the child creates its <c>Nth</c> temporary checkpoint folder (<c>OUT/.checkpoint.GUID.tmp</c>).</summary>
        CheckpointWrite,

        /// <summary>
        /// A random 0-15 sixteenths of a step (as long as the uninterrupted run's steps took, or this run's last one if
        /// shorter) after the child prints its <c>Nth</c> step line: anywhere in the next step or its checkpoint write. (A
        /// fixed 0-15 ms let a fast host's 1 ms steps run to the end before the kill; a kill that still lands steps later,
        /// as on a loaded host, is retried like one that comes after the run finished.)
        /// </summary>
        AfterStepLine,

        /// <summary>As the child creates the temporary folder of the finished adapter (beside OUT).</summary>
        AdapterWrite,

        /// <summary>A random 0-400 ms after the start: while the runtime starts, the model loads or training begins.</summary>
        Startup,
    }

    /// <summary>A kill: where, after which occurrence, and <c>Delay</c> (milliseconds at startup, sixteenths of a step after a step line).</summary>
    private sealed record Plan(KillAt At, int Nth, int Delay);

    /// <summary>
    /// How a run ended, the mean time between its step lines (0 with fewer than two), and whether a step-line kill came
    /// late: more than one further step line printed before it (the run's steps were faster than the delay assumed).
    /// </summary>
    private sealed record Outcome(int ExitCode, bool Killed, string Output, string Error, double StepMilliseconds, bool LateKill = false);

    [GeneratedRegex(@"\bstep \d+/\d+\b")]
    private static partial Regex StepLine();

    /// <summary>peft.dll, built beside this test project by its project reference (same configuration and framework).</summary>
    private static string PeftDll()
    {
        string here = Path.GetDirectoryName(typeof(KillAnywhereTrainingTests).Assembly.Location)!;   // tests/Peft.Cli.Tests/bin/<Configuration>/<tfm>
        string framework = Path.GetFileName(here), configuration = Path.GetFileName(Path.GetDirectoryName(here)!);
        string dll = Path.GetFullPath(Path.Combine(here, "..", "..", "..", "..", "..", "src", "Peft.Cli", "bin", configuration, framework, "peft.dll"));
        Assert.IsTrue(File.Exists(dll), $"the CLI is built with the tests: {dll}");
        return dll;
    }

    [TestMethod]
    public void ATrainingRunKilledAnywhereResumesFromItsLastWholeCheckpointToTheUninterruptedWeights()
    {
        using var tiny = TinyBase.Create();
        string work = CliRun.TempFolder(), snapshot = CliRun.TempFolder();
        try
        {
            string data = CliRun.WriteLines(work, "train.jsonl", [.. TrainCommandTests.Completions, .. TrainCommandTests.Completions]);
            // Dropout makes the generators' states part of what a resume must restore; 8 rows in batches of 2, 4 epochs: 16 steps.
            string[] Args(string output) => ["train", "--model", tiny.Folder, "--method", "lora", "--lora-dropout", "0.1", "--data", data,
                "--out", output, "--epochs", "4", "--batch-size", "2", "--lr", "1e-2", "--log-every", "1", "--checkpoint-every", "1", "--seed", "11"];
            string whole = Path.Combine(work, "whole"), parts = Path.Combine(work, "parts");
            var clock = Stopwatch.StartNew();
            var reference = Run(Args(whole), plan: null, work, parts, stepMilliseconds: 0);
            Assert.AreEqual(0, reference.ExitCode, reference.Error);
            double step = reference.StepMilliseconds;
            TestContext.WriteLine($"uninterrupted run: {clock.Elapsed.TotalSeconds:F1} s, {step:F1} ms per step");

            var random = new Random(20261206);
            var plans = new Queue<Plan>(Plans(random));
            Directory.CreateDirectory(parts);
            int runs = 0, checkpointWriteKills = 0, adapterWriteKills = 0, adapterWriteMisses = 0, misses = 0, resumes = 0, movedAside = 0;
            Plan? retry = null;
            var killedBy = new HashSet<KillAt>();
            var log = new StringBuilder();
            while (true)
            {
                Assert.IsLessThan(40, runs, $"the run completes after its planned kills:\n{log}");
                // A user restarts with --resume once a checkpoint exists (maybe only moved aside by the kill: the CLI puts it back).
                int? resumeAt = CheckpointStep(work, parts, out bool aside);
                if (aside) movedAside++;
                var plan = retry ?? NextPlan(plans, resumeAt, checkpointWriteKills, adapterWriteKills);
                retry = null;
                // No process runs now, so OUT is as a kill left it: kept to retry from if the kill comes too late.
                if (plan is not null && misses == 0) CopyFolder(parts, snapshot);
                string[] args = resumeAt is null ? Args(parts) : [.. Args(parts), "--resume", Path.Combine(parts, Checkpoint)];
                var outcome = Run(args, plan, work, parts, step);
                runs++;
                if (resumeAt is not null) resumes++;
                string lastStep = StepLine().Matches(outcome.Output).LastOrDefault()?.Value ?? "no step";
                log.AppendLine($"run {runs}: {(resumeAt is null ? "from scratch" : $"resumed at step {resumeAt}")}, {plan}, exit {outcome.ExitCode}, " +
                    $"last line: {lastStep}");
                bool adapterWriteMissed = plan is { At: KillAt.AdapterWrite } && !(outcome.Killed && Directory.EnumerateDirectories(work, ".parts.*.tmp").Any());
                // Killed only after the adapter replaced OUT: the run had finished, so the kill did not land where it was planned.
                bool finishedFirst = outcome.Killed && File.Exists(Path.Combine(parts, "adapter_model.safetensors"));
                if (adapterWriteMissed || finishedFirst || outcome.LateKill || (plan is not null && !outcome.Killed && outcome.ExitCode == 0))
                {
                    // On a loaded machine the watcher's event or a step-line kill's timer can fire after the adapter replaced
                    // OUT or several steps after the one aimed at, and on an idle one a short run can finish before a step-line
                    // kill's delay: put OUT back and try the same kill again.
                    // Six misses in a row happened once in a fresh-clone CI run (2026-12-08, other test assemblies busy on
                    // both cores: a kill 15/16 of a step after a step line landed 3-13 steps late or after the run had
                    // finished), so ten; a kill that never lands still fails.
                    if (adapterWriteMissed) adapterWriteMisses++;
                    Assert.IsLessThan(10, ++misses, $"a kill lands in the run it was planned for:\n{log}");
                    retry = plan;
                    log.AppendLine("  the kill came too late: OUT put back as before this run");
                    Directory.Delete(parts, recursive: true);
                    foreach (string leftover in Directory.EnumerateDirectories(work, ".parts.*")) Directory.Delete(leftover, recursive: true);
                    CopyFolder(snapshot, parts);
                    continue;
                }
                misses = 0;
                if (!outcome.Killed)
                {
                    // Never a corrupt or half-written checkpoint: any failure of a restarted run fails the test with its message.
                    Assert.AreEqual(0, outcome.ExitCode, $"run {runs} failed: {outcome.Error}\n{log}");
                    break;
                }
                killedBy.Add(plan!.At);
                if (Directory.Exists(parts) && Directory.EnumerateDirectories(parts, $".{Checkpoint}.*.tmp").Any()) checkpointWriteKills++;
                if (Directory.EnumerateDirectories(work, ".parts.*.tmp").Any()) adapterWriteKills++;
            }
            TestContext.WriteLine(log.ToString());
            TestContext.WriteLine($"{runs} runs ({checkpointWriteKills} killed during a checkpoint write, {adapterWriteKills} during the adapter " +
                $"write after {adapterWriteMisses} that came too late, {movedAside} leaving the checkpoint only moved aside), {resumes} resumes: " +
                $"{clock.Elapsed.TotalSeconds:F1} s");

            CollectionAssert.AreEquivalent(Enum.GetValues<KillAt>(), killedBy.ToArray(), $"a kill of every kind landed:\n{log}");
            Assert.IsGreaterThanOrEqualTo(1, checkpointWriteKills, $"a kill left a checkpoint half-written:\n{log}");
            Assert.IsGreaterThanOrEqualTo(1, adapterWriteKills, $"a kill left the adapter half-written:\n{log}");
            Assert.IsGreaterThanOrEqualTo(4, resumes, log.ToString());
            using var a = SafeTensorsFile.Open(Path.Combine(whole, "adapter_model.safetensors"));
            using var b = SafeTensorsFile.Open(Path.Combine(parts, "adapter_model.safetensors"));
            CollectionAssert.AreEquivalent(a.Tensors.Keys.ToArray(), b.Tensors.Keys.ToArray());
            // Bit for bit: one process's arithmetic does not depend on where another was killed (same threads, same partitioning).
            foreach (string key in a.Tensors.Keys) CollectionAssert.AreEqual(a.ReadFloat32(key), b.ReadFloat32(key), key);
            CollectionAssert.AreEquivalent(Directory.GetFileSystemEntries(whole).Select(Path.GetFileName).ToArray(),
                Directory.GetFileSystemEntries(parts).Select(Path.GetFileName).ToArray(), "the adapter folder holds what an uninterrupted run's does");
            CollectionAssert.AreEquivalent(new[] { "parts", "train.jsonl", "whole" },
                Directory.GetFileSystemEntries(work).Select(Path.GetFileName).ToArray(), "no temporary or moved-aside folder left");
        }
        finally
        {
            Directory.Delete(work, true);
            if (Directory.Exists(snapshot)) Directory.Delete(snapshot, true);
        }
    }

    private static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (string file in Directory.EnumerateFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)), overwrite: true);
        foreach (string folder in Directory.EnumerateDirectories(from)) CopyFolder(folder, Path.Combine(to, Path.GetFileName(folder)));
    }

    // Kills at checkpoint writes, at step lines and at startup, in a seeded order; each lands before a run's third step ends.
    private static List<Plan> Plans(Random random)
    {
        var plans = new List<Plan>();
        for (int i = 0; i < 3; i++) plans.Add(new Plan(KillAt.CheckpointWrite, random.Next(1, 3), 0));
        for (int i = 0; i < 2; i++) plans.Add(new Plan(KillAt.AfterStepLine, random.Next(1, 3), random.Next(0, 16)));
        plans.Add(new Plan(KillAt.Startup, 0, random.Next(0, 401)));
        random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(plans));
        return plans;
    }

    // The planned kills while steps remain; more checkpoint-write kills until one left a checkpoint half-written (a kill that
    // lands just after the write does not); then, near the end, one during the adapter write; then none, so the run completes.
    private static Plan? NextPlan(Queue<Plan> plans, int? step, int checkpointWriteKills, int adapterWriteKills)
    {
        if (adapterWriteKills > 0) return null;
        bool nearTheEnd = step >= Steps - 4;
        if (!nearTheEnd && plans.TryDequeue(out var planned)) return planned;
        if (!nearTheEnd && checkpointWriteKills == 0) return new Plan(KillAt.CheckpointWrite, 1, 0);
        return new Plan(KillAt.AdapterWrite, 1, 0);
    }

    /// <summary>The step of the checkpoint a restart resumes from, or null when there is none yet.</summary>
    /// <param name="movedAside">Whether the kill left it only moved aside (between the two moves of a write).</param>
    private static int? CheckpointStep(string work, string parts, out bool movedAside)
    {
        string state = Path.Combine(parts, Checkpoint, "trainer_state.json");
        movedAside = false;
        if (!File.Exists(state))
        {
            var aside = (Directory.Exists(parts) ? Directory.EnumerateDirectories(parts, $".{Checkpoint}.*.old") : [])
                .Concat(Directory.EnumerateDirectories(work, ".parts.*.old").Select(d => Path.Combine(d, Checkpoint)))
                .Select(d => Path.Combine(d, "trainer_state.json")).Where(File.Exists).ToList();
            if (aside.Count == 0) return null;
            movedAside = true;
            state = aside[0];
        }
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(state));
        return json.RootElement.GetProperty("step").GetInt32();
    }

    /// <summary>Runs the CLI in a child process, killing it where <paramref name="plan"/> says.</summary>
    /// <param name="stepMilliseconds">How long a step takes (the unit of a step-line kill's delay).</param>
    private static Outcome Run(string[] args, Plan? plan, string work, string parts, double stepMilliseconds)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(PeftDll());
        foreach (string arg in args) start.ArgumentList.Add(arg);
        using var process = new Process { StartInfo = start };
        var output = new StringBuilder();
        var error = new StringBuilder();
        int killRequested = 0, stepLines = 0, createdFolders = 0;
        var stepLineTimes = new List<double>();
        var clock = Stopwatch.StartNew();
        void Kill()
        {
            if (Interlocked.Exchange(ref killRequested, 1) != 0) return;
            try
            {
                // SIGKILL at once: Kill(entireProcessTree: true) first walks /proc for descendants, 50-80 ms here, long enough
                // for the child to finish the write the kill was aimed at. The CLI starts no processes of its own.
                process.Kill();
            }
            catch (InvalidOperationException)
            {
                // It exited on its own first.
            }
        }
        Timer? delayed = null;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (output) output.AppendLine(e.Data);
            if (!StepLine().IsMatch(e.Data)) return;
            double unit = stepMilliseconds;
            lock (stepLineTimes)
            {
                stepLineTimes.Add(clock.Elapsed.TotalMilliseconds);
                // This run's own last step, when shorter than the uninterrupted run's (that one may have run on a busier host).
                if (stepLineTimes.Count >= 2) unit = Math.Min(unit, stepLineTimes[^1] - stepLineTimes[^2]);
            }
            if (plan is { At: KillAt.AfterStepLine } && Interlocked.Increment(ref stepLines) == plan.Nth)
                delayed = new Timer(_ => Kill(), null, (int)Math.Round(plan.Delay / 16.0 * unit), Timeout.Infinite);
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null) lock (error) error.AppendLine(e.Data);
        };
        // inotify reports the temporary folder's creation within a fraction of a millisecond: the kill lands mid-write.
        using var watcher = plan?.At switch
        {
            KillAt.CheckpointWrite => new FileSystemWatcher(parts, $".{Checkpoint}.*.tmp"),
            KillAt.AdapterWrite => new FileSystemWatcher(work, $".{Path.GetFileName(parts)}.*.tmp"),
            _ => null,
        };
        if (watcher is not null)
        {
            watcher.NotifyFilter = NotifyFilters.DirectoryName;
            watcher.Created += (_, _) =>
            {
                if (Interlocked.Increment(ref createdFolders) == plan!.Nth) Kill();
            };
            watcher.EnableRaisingEvents = true;
        }
        process.Start();
        // The child's training threads spin while they wait for work: on two loaded cores they would delay the watcher's
        // event thread by whole steps. Below-normal priority lets the test's threads run as soon as an event arrives.
        process.PriorityClass = ProcessPriorityClass.BelowNormal;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (plan is { At: KillAt.Startup }) delayed = new Timer(_ => Kill(), null, plan.Delay, Timeout.Infinite);
        try
        {
            if (!process.WaitForExit(ProcessTimeout))
            {
                Kill();
                Assert.Fail($"peft {string.Join(' ', args)} did not finish in {ProcessTimeout}: {error}");
            }
            process.WaitForExit();   // the output events are all delivered
        }
        finally
        {
            delayed?.Dispose();
        }
        bool killed = Volatile.Read(ref killRequested) == 1 && process.ExitCode != 0;
        // Every line the child printed has been read by now: a kill aimed at the step after the Nth line leaves Nth lines,
        // or Nth + 1 when it landed in that step's checkpoint write; more means it landed steps later.
        bool lateKill = killed && plan is { At: KillAt.AfterStepLine } && Volatile.Read(ref stepLines) > plan.Nth + 1;
        double stepMs = stepLineTimes.Count < 2 ? 0 : (stepLineTimes[^1] - stepLineTimes[0]) / (stepLineTimes.Count - 1);
        lock (output) lock (error) return new Outcome(process.ExitCode, killed, output.ToString(), error.ToString(), stepMs, lateKill);
    }
}
