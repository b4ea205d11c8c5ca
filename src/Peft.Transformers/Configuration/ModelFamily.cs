namespace Peft.Transformers.Configuration;

/// <summary>The architectures this library implements, keyed by Hugging Face's <c>model_type</c>.</summary>
public enum ModelFamily
{
    /// <summary><c>gpt2</c>: learned positions, pre-LayerNorm, GELU MLP, fused Conv1D attention.</summary>
    Gpt2,
    /// <summary><c>llama</c>: RoPE, RMSNorm, SwiGLU, grouped-query attention.</summary>
    Llama,
    /// <summary><c>qwen2</c>: Llama with q/k/v biases and optional sliding window.</summary>
    Qwen2,
    /// <summary><c>mistral</c>: Llama with optional sliding window.</summary>
    Mistral,
    /// <summary><c>t5</c>: encoder-decoder with relative position buckets (incl. flan-t5's gated GELU).</summary>
    T5,
}
