using Peft.Tensors.Threading;

namespace Peft.Tensors.Tests;

[TestClass]
public sealed class WorkerPoolTests
{
    private sealed class CountingTask : ParallelTask
    {
        public int[] Hits = [];

        public override void Execute(int index) => Interlocked.Increment(ref Hits[index]);
    }

    private sealed class FailingTask : ParallelTask
    {
        public override void Execute(int index)
        {
            if (index == 3) throw new InvalidOperationException("boom");
        }
    }

    [TestMethod]
    public void EveryIndexRunsExactlyOnceAcrossManyRegions()
    {
        var task = new CountingTask();
        for (int round = 0; round < 2000; round++)
        {
            int count = 1 + round % 17;
            task.Hits = new int[count];
            WorkerPool.Run(task, count);
            Assert.IsTrue(task.Hits.All(h => h == 1), $"round {round}");
        }
    }

    [TestMethod]
    public void ExceptionInAPieceSurfacesToTheCaller()
    {
        var ex = Assert.ThrowsExactly<InvalidOperationException>(() => WorkerPool.Run(new FailingTask(), 8));
        Assert.AreEqual("boom", ex.Message);
        // The pool still works afterwards.
        var task = new CountingTask { Hits = new int[4] };
        WorkerPool.Run(task, 4);
        Assert.IsTrue(task.Hits.All(h => h == 1));
    }
}
