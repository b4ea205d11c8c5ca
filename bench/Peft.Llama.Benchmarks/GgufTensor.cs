namespace Peft.Llama.Benchmarks;

/// <summary>
/// One tensor to write: its GGUF name, ggml shape (ne[0] first, the contiguous dimension) and type, and a function that
/// makes its bytes when the writer reaches it, so a model is written without holding every tensor at once.
/// </summary>
internal sealed record GgufTensor(string Name, long[] Shape, GgufType Type, Func<byte[]> Data)
{
    /// <summary>Bytes of the encoded tensor: Q8_0 packs each 32 values as an f16 scale and 32 int8 (34 bytes).</summary>
    public long ByteSize
    {
        get
        {
            long count = Shape.Aggregate(1L, (a, b) => a * b);
            return Type switch
            {
                GgufType.F32 => count * 4,
                GgufType.F16 or GgufType.BF16 => count * 2,
                GgufType.Q8_0 => count % 32 == 0 && Shape[0] % 32 == 0
                    ? count / 32 * 34
                    : throw new InvalidOperationException($"{Name}: Q8_0 needs rows that are multiples of 32 (ne0 = {Shape[0]})."),
                _ => throw new NotSupportedException(Type.ToString()),
            };
        }
    }
}
