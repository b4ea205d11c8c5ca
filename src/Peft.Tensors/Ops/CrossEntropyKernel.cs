using System.Numerics.Tensors;
using Peft.Tensors.Threading;

namespace Peft.Tensors;

/// <summary>
/// Row-parallel, vectorized cross-entropy passes: forward computes each row's log-sum-exp and
/// loss term, backward adds scale·(softmax − one-hot) into the logits' gradient. Rows are
/// independent and per-row results are summed afterwards in row order, so the result does not
/// depend on the thread count.
/// </summary>
internal sealed class CrossEntropyKernel : ParallelTask
{
    [ThreadStatic] private static CrossEntropyKernel? t_task;
    [ThreadStatic] private static float[]? t_scratch;

    private bool _backward;
    private float[] _logits = [], _lse = [], _terms = [], _grad = [];
    private int[] _targets = [];
    private int _rows, _classes, _ignore, _chunk;
    private float _scale;
    private bool _gradientInForward;

    /// <summary>Fills lse[r] and terms[r] (lse − logit of the target, 0 when ignored).</summary>
    public static void Forward(float[] logits, int[] targets, int rows, int classes, int ignore, float[] lse, float[] terms) =>
        Run(false, logits, targets, rows, classes, ignore, lse, terms, [], 0f);

    /// <summary>grad[r] += scale·(softmax(row) − onehot(target)) for rows whose target is not ignored.</summary>
    public static void Backward(float[] logits, int[] targets, int rows, int classes, int ignore, float[] lse, float[] grad, float scale) =>
        Run(true, logits, targets, rows, classes, ignore, lse, [], grad, scale);

    /// <summary>
    /// <see cref="Forward"/> that also rewrites every row of logits as its gradient in the same pass:
    /// scale·(softmax − one-hot), zero on ignored rows (one exponential per element instead of two).
    /// </summary>
    public static void ForwardWithGradientInPlace(float[] logits, int[] targets, int rows, int classes, int ignore, float[] lse, float[] terms, float scale) =>
        Run(false, logits, targets, rows, classes, ignore, lse, terms, [], scale, gradientInForward: true);

    private static void Run(bool backward, float[] logits, int[] targets, int rows, int classes, int ignore, float[] lse, float[] terms, float[] grad,
        float scale, bool gradientInForward = false)
    {
        var task = t_task ??= new CrossEntropyKernel();
        task._gradientInForward = gradientInForward;
        (task._backward, task._logits, task._targets, task._rows, task._classes, task._ignore) = (backward, logits, targets, rows, classes, ignore);
        (task._lse, task._terms, task._grad, task._scale) = (lse, terms, grad, scale);
        int pieces = (long)rows * classes >= 1 << 16 ? Math.Min(WorkerPool.Degree, rows) : 1;
        task._chunk = (rows + pieces - 1) / pieces;
        if (pieces == 1) task.Execute(0);
        else WorkerPool.Run(task, (rows + task._chunk - 1) / task._chunk);
        (task._logits, task._lse, task._terms, task._grad, task._targets) = ([], [], [], [], []);
    }

    public override void Execute(int index)
    {
        int from = index * _chunk, to = Math.Min(_rows, from + _chunk);
        if (t_scratch is null || t_scratch.Length < _classes) t_scratch = new float[_classes];
        var scratch = t_scratch.AsSpan(0, _classes);
        for (int r = from; r < to; r++)
        {
            ReadOnlySpan<float> row = _logits.AsSpan(r * _classes, _classes);
            int target = _targets[r];
            if (_backward)
            {
                if (target == _ignore) continue;
                var grow = _grad.AsSpan(r * _classes, _classes);
                TensorPrimitives.Subtract(row, _lse[r], scratch);
                TensorPrimitives.Exp(scratch, scratch);
                TensorPrimitives.MultiplyAdd(scratch, _scale, grow, grow);
                grow[target] -= _scale;
                continue;
            }
            float max = TensorPrimitives.Max(row);
            TensorPrimitives.Subtract(row, max, scratch);
            TensorPrimitives.Exp(scratch, scratch);
            float sum = TensorPrimitives.Sum(scratch);
            float logSumExp = max + MathF.Log(sum);
            _lse[r] = logSumExp;
            _terms[r] = target == _ignore ? 0f : logSumExp - row[target];
            if (!_gradientInForward) continue;
            var gradientRow = _logits.AsSpan(r * _classes, _classes);
            if (target == _ignore)
            {
                gradientRow.Clear();
                continue;
            }
            TensorPrimitives.Multiply(scratch, _scale / sum, gradientRow);
            gradientRow[target] -= _scale;
        }
    }
}
