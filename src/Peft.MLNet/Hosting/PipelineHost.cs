using Microsoft.ML;
using Microsoft.ML.Runtime;

namespace Peft.MLNet.Hosting;

/// <summary>
/// What one run of a component of ours (a Fit) asks of the <see cref="MLContext"/> it runs in: a
/// channel of <see cref="MLContext.Log"/> for progress, and a token that fires when the
/// context's execution is cancelled (ML.NET's <c>CancelExecution</c>, which the
/// Microsoft.ML.Experimental package exposes) or the caller's token fires.
/// </summary>
internal sealed class PipelineHost : IDisposable
{
    private readonly IHostEnvironment _environment;
    private readonly IChannel _channel;
    private readonly CancellationTokenSource _cancellation;
    private readonly Timer _poll;

    /// <summary>Opens a channel named <paramref name="component"/> / <paramref name="phase"/> and starts watching for cancellation.</summary>
    public PipelineHost(IHostEnvironment environment, string component, string phase, CancellationToken cancellationToken = default)
    {
        _environment = environment;
        _channel = environment.Register(component).Start(phase);
        _cancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _poll = new Timer(_ =>
        {
            if (IsCanceled) _cancellation.Cancel();
        }, null, TimeSpan.Zero, TimeSpan.FromMilliseconds(50));
    }

    /// <summary>Fires when the context's execution is cancelled or the caller's token fires.</summary>
    public CancellationToken Token => _cancellation.Token;

    /// <summary>Whether the context's execution has been cancelled.</summary>
    public bool IsCanceled => MLNetInternals.IsCanceled(_environment);

    /// <summary>Writes an informational line to <see cref="MLContext.Log"/>.</summary>
    public void Info(string message) => _channel.Info(MessageSensitivity.None, message);

    /// <summary>Writes a warning to <see cref="MLContext.Log"/>.</summary>
    public void Warning(string message) => _channel.Warning(MessageSensitivity.None, message);

    /// <inheritdoc/>
    public void Dispose()
    {
        _poll.Dispose();
        _cancellation.Dispose();
        _channel.Dispose();
    }
}
