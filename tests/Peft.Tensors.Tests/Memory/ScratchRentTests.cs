namespace Peft.Tensors.Tests;

/// <summary>
/// Scratch rented for the length of one operation may borrow an idle longer buffer (up to 4x) when its own size class is
/// empty; a plain rent never does, and a borrowed buffer goes back to its own class.
/// </summary>
[TestClass]
[DoNotParallelize] // The pool is process-wide: tests running beside it would take its buffers.
public sealed class ScratchRentTests
{
    // Sizes no other test rents: their classes are empty unless this test fills them.
    private const int Small = 1_234_567, Large = 3 * Small, TooLarge = 5 * Small;

    [TestMethod]
    public void ScratchBorrowsTheSmallestIdleBufferWithinFourTimesItsLength()
    {
        TensorPool.Trim();
        var large = TensorPool.Rent(Large, clear: false);
        var tooLarge = TensorPool.Rent(TooLarge, clear: false);
        TensorPool.Return(large);
        TensorPool.Return(tooLarge);

        // A plain rent keeps to its size class: a fresh buffer.
        var plain = TensorPool.Rent(Small, clear: false);
        Assert.AreEqual(TensorPool.SizeClass(Small), plain.Length);

        // Scratch takes the idle 3x buffer, not the 5x one.
        var scratch = TensorPool.RentScratch(Small);
        Assert.AreSame(large, scratch);
        var second = TensorPool.RentScratch(Small);
        Assert.AreNotSame(tooLarge, second, "a buffer more than 4x longer is never borrowed");
        Assert.AreEqual(TensorPool.SizeClass(Small), second.Length);

        // Its own class first once it has an idle buffer.
        TensorPool.Return(plain);
        Assert.AreSame(plain, TensorPool.RentScratch(Small));

        // A borrowed buffer goes back to its own class: a plain rent of that class gets it again.
        TensorPool.Return(scratch);
        Assert.AreSame(large, TensorPool.Rent(Large, clear: false));
        TensorPool.Trim();
    }
}
