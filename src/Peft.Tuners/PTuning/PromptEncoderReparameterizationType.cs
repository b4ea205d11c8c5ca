namespace Peft.Tuners.PTuning;

/// <summary>The P-tuning prompt encoder's network (PEFT's <c>encoder_reparameterization_type</c>).</summary>
public enum PromptEncoderReparameterizationType
{
    /// <summary>MLP: two hidden layers with ReLU.</summary>
    Mlp,

    /// <summary>LSTM: a bidirectional LSTM followed by an MLP.</summary>
    Lstm,
}
