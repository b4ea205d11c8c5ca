using System.Diagnostics;

namespace Peft.Tensors.Threading;

/// <summary>
/// A small fork-join pool of dedicated threads (one per core besides the caller). Workers spin
/// briefly before sleeping, so the back-to-back short parallel regions of a decode step do not
/// pay a wake-up each. The ThreadPool's Parallel.For was measured running 2-way work at 1-core
/// speed on the 2-core machines we target; dedicated threads did not.
/// </summary>
public static class WorkerPool
{
    private static readonly object s_runLock = new();
    private static readonly Worker[] s_workers;
    private static ParallelTask? s_task;
    private static int s_count;
    private static int s_next;
    private static int s_pending;
    private static volatile int s_generation;
    [ThreadStatic] private static bool t_inWorker;
    private static int s_maxDegree;

    static WorkerPool()
    {
        int threads = Math.Max(1, Environment.ProcessorCount);
        s_maxDegree = threads;
        s_workers = new Worker[threads - 1];
        for (int i = 0; i < s_workers.Length; i++)
            s_workers[i] = new Worker(i);
    }

    /// <summary>Number of threads that execute work, the caller included.</summary>
    public static int Degree => Math.Min(s_maxDegree, s_workers.Length + 1);

    /// <summary>
    /// Limits the number of threads used (1 = run everything on the caller). Meant for
    /// benchmarks comparing 1 and N threads; values above the core count are clamped.
    /// </summary>
    public static void SetMaxDegree(int degree)
    {
        if (degree < 1) throw new ArgumentOutOfRangeException(nameof(degree), $"Degree must be at least 1; got {degree}.");
        s_maxDegree = Math.Min(degree, s_workers.Length + 1);
    }

    /// <summary>
    /// Runs <c>task.Execute(i)</c> for every i in [0, count) and returns when all are done. The
    /// calling thread takes part. Nested or concurrent calls run on the caller alone. An exception thrown by a
    /// piece is rethrown here after the other pieces have stopped.
    /// </summary>
    public static void Run(ParallelTask task, int count)
    {
        ArgumentNullException.ThrowIfNull(task);
        if (count <= 0) return;
        int helpers = Math.Min(Degree - 1, count - 1);
        if (helpers <= 0 || t_inWorker || !Monitor.TryEnter(s_runLock))
        {
            for (int i = 0; i < count; i++) task.Execute(i);
            return;
        }
        Exception? failure;
        try
        {
            s_task = task;
            s_count = count;
            s_next = 0;
            s_pending = helpers;
            for (int w = 0; w < helpers; w++) s_workers[w].Arm();
            Interlocked.Increment(ref s_generation);
            for (int w = 0; w < helpers; w++) s_workers[w].Wake();

            bool wasInWorker = t_inWorker;
            t_inWorker = true;
            try
            {
                Drain(task);
            }
            catch (Exception ex)
            {
                Interlocked.CompareExchange(ref s_failure, ex, null);
                Volatile.Write(ref s_next, int.MaxValue / 2);
            }
            finally
            {
                t_inWorker = wasInWorker;
            }

            var spinner = new SpinWait();
            while (Volatile.Read(ref s_pending) != 0) spinner.SpinOnce(-1);
            s_task = null;
            failure = s_failure;
            s_failure = null;
        }
        finally
        {
            Monitor.Exit(s_runLock);
        }
        if (failure is not null)
        {
            // Same exception whether the piece ran on the caller or a worker.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        }
    }

    private static Exception? s_failure;

    private static void Drain(ParallelTask task)
    {
        int count = s_count;
        while (true)
        {
            int i = Interlocked.Increment(ref s_next) - 1;
            if (i >= count) return;
            task.Execute(i);
        }
    }

    private sealed class Worker
    {
        private readonly SemaphoreSlim _wake = new(0);
        private volatile bool _armed;
        private int _seenGeneration;

        public Worker(int id)
        {
            var thread = new Thread(Loop) { IsBackground = true, Name = $"Peft worker {id}" };
            thread.Start();
        }

        public void Arm() => _armed = true;

        public void Wake()
        {
            if (Volatile.Read(ref _sleeping) != 0) _wake.Release();
        }

        private int _sleeping;

        private void Loop()
        {
            t_inWorker = true;
            while (true)
            {
                // Spin for ~50 µs waiting for the next region, then sleep.
                long spinUntil = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 20000;
                while (!_armed || s_generation == _seenGeneration)
                {
                    if (Stopwatch.GetTimestamp() > spinUntil)
                    {
                        // Full fence so the caller either sees us asleep or we see its new region.
                        Interlocked.Exchange(ref _sleeping, 1);
                        if (_armed && s_generation != _seenGeneration) { Interlocked.Exchange(ref _sleeping, 0); break; }
                        _wake.Wait(10);
                        Interlocked.Exchange(ref _sleeping, 0);
                        spinUntil = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 20000;
                    }
                    else
                    {
                        Thread.SpinWait(20);
                    }
                }
                _seenGeneration = s_generation;
                _armed = false;
                var task = s_task;
                try
                {
                    if (task is not null) Drain(task);
                }
                catch (Exception ex)
                {
                    Interlocked.CompareExchange(ref s_failure, ex, null);
                    // Skip the rest of the region so the caller returns promptly.
                    Volatile.Write(ref s_next, int.MaxValue / 2);
                }
                Interlocked.Decrement(ref s_pending);
            }
        }
    }
}
