namespace Peft.Tensors;

/// <summary>
/// Makes a recomputed forward pass draw the same dropout masks as the original one: while a
/// checkpointed forward runs, each dropout call logs its generator's state before drawing; the
/// recomputation restores those states in order, then puts every generator back where it was.
/// </summary>
internal static class DropoutReplay
{
    [ThreadStatic] private static List<(SeededRandom Random, (uint, uint, uint, uint) State)>? t_recording;
    [ThreadStatic] private static Queue<(SeededRandom Random, (uint, uint, uint, uint) State)>? t_replaying;

    /// <summary>Called by dropout before it draws a mask.</summary>
    public static void BeforeDraw(SeededRandom random)
    {
        if (t_replaying is { } replay)
        {
            if (replay.Count == 0 || !ReferenceEquals(replay.Peek().Random, random))
                throw new InvalidOperationException(
                    "A checkpointed layer drew dropout masks in a different order when recomputed; its function must be deterministic.");
            random.Restore(replay.Dequeue().State);
        }
        else t_recording?.Add((random, random.State));
    }

    /// <summary>Runs a forward pass logging dropout draws; returns the log (empty when there was no dropout).</summary>
    public static List<(SeededRandom Random, (uint, uint, uint, uint) State)> Record(Action forward)
    {
        var outer = t_recording;
        var log = new List<(SeededRandom, (uint, uint, uint, uint))>();
        t_recording = log;
        try
        {
            forward();
        }
        finally
        {
            t_recording = outer;
        }
        // A nested recording's draws belong to the outer one too.
        outer?.AddRange(log);
        return log;
    }

    /// <summary>Runs a recomputation that replays <paramref name="log"/>, then restores each generator's current state.</summary>
    public static void Replay(List<(SeededRandom Random, (uint, uint, uint, uint) State)> log, Action forward)
    {
        var current = log.Select(e => e.Random).Distinct().Select(r => (r, r.State)).ToArray();
        var outer = t_replaying;
        t_replaying = new Queue<(SeededRandom, (uint, uint, uint, uint))>(log);
        try
        {
            forward();
        }
        finally
        {
            t_replaying = outer;
            foreach (var (random, state) in current) random.Restore(state);
        }
    }
}
