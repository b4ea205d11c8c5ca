using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using Peft.Tensors.Kernels;
using Peft.Tensors.Threading;

namespace Peft.Tensors;

/// <summary>
/// Cross-entropy of a linear head (logits = hidden · Wᵀ) that never holds a row's full logits: the
/// classes go through in blocks, each row keeping a running maximum and sum of exponentials (an
/// online log-sum-exp), and, when asked, dHidden = softmax · W − W[target] is accumulated block by
/// block, rescaled whenever a row's maximum grows (as flash attention does over keys). Each thread
/// takes its own share of the classes with its own running state, merged at the end, so per pass of
/// rows W is read once per product, the hidden rows are packed once, and no operand is packed twice.
/// Results depend on the thread count only at rounding level (the shares' merge order).
/// </summary>
internal sealed unsafe class VocabularyBlockedCrossEntropy : ParallelTask
{
    /// <summary>
    /// Classes per block: a block's logits are this many × rows floats, 0.6 MB at 508 rows, so the passes over them and the
    /// second product's packing read L2 (1024 classes, 2 MB, went through L3), and 288 = 2 × 144 fills the GEMM's row
    /// blocks exactly. gpt2-small head with its gradient, one core (Zen 4): 1024 classes 90-91 GFLOP/s, 288 99-103;
    /// 128-384 all 91-101.
    /// </summary>
    private const int BlockClasses = 288;

    /// <summary>Most rows per pass; W is read twice per pass.</summary>
    private const int MaxRowsPerPass = 1024;

    /// <summary>Floats the extra shares' gradient sums may take together (64 MB), which bounds a pass's rows for wide models on many cores.</summary>
    private const long ShareSumBudget = 16L << 20;

    private const int MaxShares = 8;

    // Running state per share, as rows-long vectors: maximum, sum, new maximum, rescale factor, block sum.
    private const int StateVectors = 5;

    [ThreadStatic] private static VocabularyBlockedCrossEntropy? t_task;

    private readonly float[][] _logits = Empty();
    private readonly float[][] _sums = Empty();
    private readonly float[][] _state = Empty();
    private float* _weight, _packedHidden, _hiddenGradient;
    private int* _targets;
    private float[] _targetLogits = [];
    private int _rows, _features, _classes, _shares;
    private GemmIsa _isa;

    private static float[][] Empty()
    {
        var arrays = new float[MaxShares][];
        Array.Fill(arrays, []);
        return arrays;
    }

    /// <summary>
    /// Loss terms (log-sum-exp − target logit, 0 on ignored rows) into <paramref name="terms"/> and,
    /// when <paramref name="hiddenGradient"/> is not empty, scale·(softmax − one-hot)·W per row into
    /// it (zero on ignored rows).
    /// </summary>
    public static void Run(ReadOnlySpan<float> hidden, ReadOnlySpan<float> weight, ReadOnlySpan<int> targets, int rows, int features, int classes,
        int ignore, float scale, Span<float> terms, Span<float> hiddenGradient)
    {
        var task = t_task ??= new VocabularyBlockedCrossEntropy();
        var isa = Gemm.ActiveIsa;
        int shares = Math.Clamp(Gemm.ThreadsForCall, 1, Math.Min(MaxShares, classes));
        bool gradient = !hiddenGradient.IsEmpty;
        int rowsPerPass = shares == 1 || !gradient ? MaxRowsPerPass
            : (int)Math.Clamp(ShareSumBudget / ((long)(shares - 1) * features), 64, MaxRowsPerPass);
        fixed (float* h = hidden, w = weight, gh = hiddenGradient)
        fixed (int* t = targets)
        {
            for (int start = 0; start < rows; start += rowsPerPass)
            {
                int n = Math.Min(rowsPerPass, rows - start);
                try
                {
                    task.RunPass(h + (nint)start * features, w, t + start, n, features, classes, shares, isa, gradient ? gh + (nint)start * features : null);
                    task.Merge(w, t + start, ignore, scale, terms.Slice(start, n));
                }
                finally
                {
                    task.ReturnBuffers();
                }
            }
        }
    }

    private void RunPass(float* hidden, float* weight, int* targets, int rows, int features, int classes, int shares, GemmIsa isa, float* hiddenGradient)
    {
        _weight = weight;
        _targets = targets;
        _hiddenGradient = hiddenGradient;
        (_rows, _features, _classes, _shares, _isa) = (rows, features, classes, shares, isa);
        int blockClasses = Math.Min(BlockClasses, (classes + shares - 1) / shares);
        for (int s = 0; s < shares; s++)
        {
            // Scratch for this pass only: it may borrow the forward's idle one-layer buffers (the loss is a step's peak).
            _logits[s] = TensorPool.RentScratch(blockClasses * rows);
            _state[s] = TensorPool.RentScratch(StateVectors * rows);
            // Share 0 accumulates straight into the gradient; the others need their own.
            _sums[s] = hiddenGradient is not null && s > 0 ? TensorPool.RentScratch(rows * features) : [];
        }
        _targetLogits = TensorPool.RentScratch(rows);
        // The hidden rows as the right operand Hᵀ (features × rows), packed once for every share.
        long packedFloats = PackedMatrix.PackedFloats(features, rows, isa);
        var packed = TensorPool.RentScratch(checked((int)packedFloats + 16));
        try
        {
            fixed (float* p = packed)
            {
                _packedHidden = (float*)(((nint)p + 63) & ~(nint)63);
                PackedMatrix.PackInto(transposed: true, features, rows, hidden, features, _packedHidden, isa);
                WorkerPool.Run(this, shares);
            }
        }
        finally
        {
            _packedHidden = null;
            TensorPool.Return(packed);
        }
    }

    public override void Execute(int share)
    {
        int threads = Gemm.MaxThreads;
        var isa = Gemm.ForcedIsa;
        // The share is this thread's whole job: its products run here, with the caller's kernels.
        Gemm.MaxThreads = 1;
        Gemm.ForcedIsa = _isa;
        try
        {
            RunShare(share);
        }
        finally
        {
            Gemm.MaxThreads = threads;
            Gemm.ForcedIsa = isa;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void RunShare(int share)
    {
        int rows = _rows, features = _features;
        int from = (int)((long)_classes * share / _shares), to = (int)((long)_classes * (share + 1) / _shares);
        int blockClasses = Math.Min(BlockClasses, (_classes + _shares - 1) / _shares);
        var state = _state[share].AsSpan();
        Span<float> max = state[..rows], sum = state.Slice(rows, rows), newMax = state.Slice(2 * rows, rows),
            factor = state.Slice(3 * rows, rows), blockSum = state.Slice(4 * rows, rows);
        max.Fill(float.MinValue);
        sum.Clear();
        bool gradient = _hiddenGradient is not null;
        fixed (float* logits = _logits[share], ownSums = _sums[share])
        {
            float* weightedSums = share == 0 ? _hiddenGradient : ownSums;
            for (int c0 = from; c0 < to; c0 += blockClasses)
            {
                int nb = Math.Min(blockClasses, to - c0);
                float* block = _weight + (nint)c0 * features;
                // Logitsᵀ of the block: [nb classes, rows].
                Gemm.MultiplyPacked(false, nb, rows, features, 1f, block, features, _packedHidden, _isa, 0f, logits, rows);
                var z = new Span<float>(logits, nb * rows);
                for (int r = 0; r < rows; r++)
                {
                    int t = _targets[r] - c0;
                    if ((uint)t < (uint)nb) _targetLogits[r] = z[t * rows + r];
                }

                z[..rows].CopyTo(newMax);
                for (int c = 1; c < nb; c++) TensorPrimitives.Max(newMax, z.Slice(c * rows, rows), newMax);
                TensorPrimitives.Max(max, newMax, newMax);
                TensorPrimitives.Subtract(max, newMax, factor);
                TensorPrimitives.Exp(factor, factor);
                newMax.CopyTo(max);

                // Exponentials in place (they are the block's unnormalized probabilities), summed per
                // block first so long vocabularies do not add thousands of terms into one float.
                blockSum.Clear();
                for (int c = 0; c < nb; c++)
                {
                    var row = z.Slice(c * rows, rows);
                    TensorPrimitives.Subtract(row, max, row);
                    TensorPrimitives.Exp(row, row);
                    TensorPrimitives.Add(blockSum, row, blockSum);
                }
                TensorPrimitives.MultiplyAdd(sum, factor, blockSum, sum);

                if (!gradient) continue;
                bool first = c0 == from;
                if (!first)
                    for (int r = 0; r < rows; r++)
                        if (factor[r] != 1f)
                        {
                            var acc = new Span<float>(weightedSums + (nint)r * features, features);
                            TensorPrimitives.Multiply(acc, factor[r], acc);
                        }
                // Σ exp(logit − max)·W over the block's classes.
                Gemm.Multiply(true, false, rows, features, nb, 1f, logits, rows, block, features, first ? 0f : 1f, weightedSums, features);
            }
        }
    }

    /// <summary>Combines the shares' running states per row into loss terms and gradient rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Merge(float* weight, int* targets, int ignore, float scale, Span<float> terms)
    {
        int rows = _rows, features = _features, shares = _shares;
        Span<float> weights = stackalloc float[MaxShares];
        for (int r = 0; r < rows; r++)
        {
            int target = targets[r];
            var gradientRow = _hiddenGradient is null ? default : new Span<float>(_hiddenGradient + (nint)r * features, features);
            if (target == ignore)
            {
                terms[r] = 0f;
                gradientRow.Clear();
                continue;
            }
            float max = float.MinValue;
            for (int s = 0; s < shares; s++) max = Math.Max(max, _state[s][r]);
            float total = 0f;
            for (int s = 0; s < shares; s++)
            {
                weights[s] = MathF.Exp(_state[s][r] - max);
                total += _state[s][rows + r] * weights[s];
            }
            terms[r] = max + MathF.Log(total) - _targetLogits[r];
            if (gradientRow.IsEmpty) continue;
            TensorPrimitives.Multiply(gradientRow, scale * weights[0] / total, gradientRow);
            for (int s = 1; s < shares; s++)
                TensorPrimitives.MultiplyAdd(_sums[s].AsSpan(r * features, features), scale * weights[s] / total, gradientRow, gradientRow);
            TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>(weight + (nint)target * features, features), -scale, gradientRow, gradientRow);
        }
    }

    private void ReturnBuffers()
    {
        for (int s = 0; s < MaxShares; s++)
        {
            Return(ref _logits[s]);
            Return(ref _state[s]);
            Return(ref _sums[s]);
        }
        Return(ref _targetLogits);
        _hiddenGradient = null;

        static void Return(ref float[] buffer)
        {
            if (buffer.Length > 0) TensorPool.Return(buffer);
            buffer = [];
        }
    }
}
