using Peft.Transformers.Generation;

namespace Peft.Transformers.Tests.Generation;

[TestClass]
public sealed class StopTextFilterTests
{
    private static (string Text, bool Stopped) Run(string[] stops, params string[] chunks)
    {
        var filter = new StopTextFilter(stops);
        string text = string.Concat(chunks.Select(filter.Add));
        return (text + filter.Flush(), filter.Stopped);
    }

    [TestMethod]
    public void AStopSplitOverChunksEndsTheTextBeforeIt()
    {
        Assert.AreEqual(("Hello ", true), Run(["END"], "Hello E", "N", "D and more"));
        Assert.AreEqual(("a", true), Run(["bc", "b"], "ab", "c"), "the earliest stop wins");
    }

    [TestMethod]
    public void HeldBackTextThatNeverBecomesAStopIsReleased()
    {
        var filter = new StopTextFilter(["END"]);
        Assert.AreEqual("x", filter.Add("xEN"), "'EN' may start the stop: held back");
        Assert.AreEqual("ENx", filter.Add("x"), "released once it cannot");
        Assert.AreEqual("", filter.Add("E"));
        Assert.AreEqual("E", filter.Flush(), "released when generation ends");
        Assert.IsFalse(filter.Stopped);
        Assert.AreEqual(("same", false), Run([], "sa", "me"), "no stops: everything passes");
    }
}
