namespace Peft.Transformers.SafeTensors;

/// <summary>One tensor's entry in a safetensors header.</summary>
/// <param name="Name">The tensor's key (a Hugging Face parameter name).</param>
/// <param name="DType">Element type as stored.</param>
/// <param name="Shape">Dimensions.</param>
/// <param name="DataOffset">Start of its bytes, relative to the data section.</param>
/// <param name="ByteLength">Number of bytes.</param>
public sealed record SafeTensorInfo(string Name, SafeTensorDType DType, int[] Shape, long DataOffset, long ByteLength)
{
    /// <summary>Number of elements (product of <see cref="Shape"/>).</summary>
    public long ElementCount
    {
        get
        {
            long n = 1;
            foreach (int d in Shape) n *= d;
            return n;
        }
    }

    /// <summary>The shape formatted as <c>[a, b]</c>.</summary>
    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}
