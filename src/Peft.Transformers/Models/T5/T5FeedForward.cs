using Peft.Tensors;
using Peft.Transformers.Configuration;
using Peft.Transformers.Modules;

namespace Peft.Transformers.Models.T5;

// Shapes: B batch, T length, D hidden (d_model), F feed-forward size (d_ff).

/// <summary>T5's feed-forward: wo(act(wi(x))), or flan-t5's gated wo(act(wi_0(x)) ⊙ wi_1(x)).</summary>
internal sealed class T5FeedForward
{
    private readonly string _activation;
    private readonly LinearLayer? _wi, _wi0, _wi1;

    public T5FeedForward(string prefix, ModelConfig config, ParameterSet parameters)
    {
        _activation = config.HiddenActivation;
        int d = config.HiddenSize, ff = config.IntermediateSize;
        if (config.IsGatedFeedForward)
        {
            _wi0 = new LinearLayer(prefix + ".wi_0", parameters.Add(prefix + ".wi_0.weight", new Shape(ff, d)), null); // [F, D]
            _wi1 = new LinearLayer(prefix + ".wi_1", parameters.Add(prefix + ".wi_1.weight", new Shape(ff, d)), null); // [F, D]
        }
        else _wi = new LinearLayer(prefix + ".wi", parameters.Add(prefix + ".wi.weight", new Shape(ff, d)), null); // [F, D]
        Out = new LinearLayer(prefix + ".wo", parameters.Add(prefix + ".wo.weight", new Shape(d, ff)), null); // [D, F]
    }

    public LinearLayer Out { get; }

    public IEnumerable<LinearLayer> Linears => _wi is not null ? [_wi, Out] : [_wi0!, _wi1!, Out];

    public Tensor Forward(Tensor x)
    {
        // Each intermediate is released once used up (backward keeps what it reads).
        Tensor h;
        if (_wi is not null) h = Activate(_wi.Forward(x)); // [B, T, F]
        else
        {
            var gate = Activate(_wi0!.Forward(x)); // [B, T, F]
            var linear = _wi1!.Forward(x); // [B, T, F]
            h = Ops.Multiply(gate, linear); // [B, T, F]
            TensorScope.Release(gate);
            TensorScope.Release(linear);
        }
        return Intermediates.Through(Out, h); // [B, T, D]
    }

    /// <summary>The activation of a projection's output, releasing that output.</summary>
    private Tensor Activate(Tensor x)
    {
        var y = _activation switch
        {
            "relu" => Ops.Relu(x),
            "gelu" => Ops.Gelu(x, GeluApproximation.Erf),
            "gelu_new" => Ops.Gelu(x, GeluApproximation.Tanh),
            _ => Ops.Silu(x),
        };
        TensorScope.Release(x);
        return y;
    }
}
