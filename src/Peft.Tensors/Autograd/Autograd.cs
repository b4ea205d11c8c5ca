namespace Peft.Tensors;

/// <summary>Switches for gradient recording.</summary>
public static class Autograd
{
    /// <summary>True unless inside a <see cref="NoGrad"/> region on this thread.</summary>
    public static bool IsGradEnabled => Tape.GradEnabled;

    /// <summary>
    /// Stops recording operations until the returned value is disposed (nestable, per thread).
    /// Use it for inference and generation.
    /// </summary>
    public static NoGradRegion NoGrad()
    {
        Tape.EnterNoGrad();
        return new NoGradRegion(true);
    }

    /// <summary>The region returned by <see cref="NoGrad"/>; dispose it to restore recording.</summary>
    public struct NoGradRegion : IDisposable
    {
        private bool _active;

        internal NoGradRegion(bool active) => _active = active;

        /// <summary>Ends the region.</summary>
        public void Dispose()
        {
            if (!_active) return;
            _active = false;
            Tape.ExitNoGrad();
        }
    }
}
