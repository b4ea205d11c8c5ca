namespace Peft.Tensors;

/// <summary>
/// One recorded operation: which backward function to run, the output whose gradient it reads,
/// the inputs it sends gradients to and whatever it saved from the forward pass. A struct in a
/// reused list, so recording allocates nothing once the list has grown to a step's size.
/// </summary>
internal struct TapeEntry
{
    public IBackward Op;
    public Tensor Output;
    public Tensor? A;
    public Tensor? B;
    public Tensor? C;
    public Tensor? D;
    public Tensor? Saved0;
    public Tensor? Saved1;
    public Tensor? Saved2;
    public int Int0;
    public int Int1;
    public int Int2;
    public int Int3;
    public float Float0;
    public float Float1;
    public object? State;
    /// <summary>What <see cref="IBackward.Reads"/> answered at record time (the reader counts it added).</summary>
    public TapeSlots Reads;
    /// <summary>Set by backward before the entry runs: the output's gradient is dropped right after it (see <see cref="Tape.TryHandGradientToA"/>).</summary>
    public bool OutputGradientDies;
}
