using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using BenchmarkDotNet.Attributes;
using Peft.Tensors.Threading;

namespace Peft.Benchmarks;

/// <summary>
/// This CPU's peak FMA rate: a register-only loop of independent 512-bit FMAs (10 chains hide
/// the latency), on 1 and on every core. The ceiling every GEMM figure is compared with.
/// </summary>
[Config(typeof(ShortJobConfig))]
public class PeakFmaBenchmarks : IFlopCount
{
    private const int Iterations = 20_000_000;
    private readonly FmaTask _task = new();

    [Params(1, 2)]
    public int Threads { get; set; }

    public double FlopsPerInvocation => Threads * (double)Iterations * 10 * 16 * 2;

    [GlobalSetup]
    public void Setup() => WorkerPool.SetMaxDegree(Threads);

    [Benchmark]
    public float PeakFma()
    {
        WorkerPool.Run(_task, Threads);
        return _task.Sink;
    }

    private sealed class FmaTask : ParallelTask
    {
        public float Sink;

        [MethodImpl(MethodImplOptions.NoInlining)]
        public override void Execute(int index)
        {
            if (!Avx512F.IsSupported) return;
            var x = Vector512.Create(1.0000001f);
            var y = Vector512.Create(0.9999999f);
            Vector512<float> a0 = x, a1 = y, a2 = x, a3 = y, a4 = x, a5 = y, a6 = x, a7 = y, a8 = x, a9 = y;
            for (int i = 0; i < Iterations; i++)
            {
                a0 = Avx512F.FusedMultiplyAdd(a0, x, y); a1 = Avx512F.FusedMultiplyAdd(a1, x, y);
                a2 = Avx512F.FusedMultiplyAdd(a2, x, y); a3 = Avx512F.FusedMultiplyAdd(a3, x, y);
                a4 = Avx512F.FusedMultiplyAdd(a4, x, y); a5 = Avx512F.FusedMultiplyAdd(a5, x, y);
                a6 = Avx512F.FusedMultiplyAdd(a6, x, y); a7 = Avx512F.FusedMultiplyAdd(a7, x, y);
                a8 = Avx512F.FusedMultiplyAdd(a8, x, y); a9 = Avx512F.FusedMultiplyAdd(a9, x, y);
            }
            Sink = (a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9).ToScalar();
        }
    }
}
