namespace Peft.Llama.Benchmarks;

/// <summary>The ggml tensor types this bench writes, with ggml's numbering (ggml.h's enum ggml_type).</summary>
internal enum GgufType : uint
{
    F32 = 0,
    F16 = 1,
    Q8_0 = 8,
    BF16 = 30,
}
