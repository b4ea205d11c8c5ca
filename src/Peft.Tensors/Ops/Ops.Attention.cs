using System.Runtime.Intrinsics;
using System.Numerics.Tensors;
using Peft.Tensors.Kernels;
using Peft.Tensors.Threading;

namespace Peft.Tensors;

public static partial class Ops
{
    /// <summary>
    /// Scaled dot-product attention as Hugging Face's eager attention computes it:
    /// softmax(scale·Q·Kᵀ + mask + bias)·V, per batch row and head, in float32.
    /// </summary>
    /// <param name="queries">[batch, Hq, Tq, D].</param>
    /// <param name="keys">
    /// [batch, Hkv, Tk, D]; Hq must be a multiple of Hkv (grouped-query attention: query head h reads key head h / (Hq/Hkv)).
    /// Any prefix or cached positions are rows in front of the new ones.
    /// </param>
    /// <param name="values">[batch, Hkv, Tk, Dv].</param>
    /// <param name="additiveMask">
    /// Added to the scores: [batch or 1, 1 or Hq, Tq, Tk], typically 0 or float.MinValue (see the models' mask builders);
    /// null for none. Not differentiated.
    /// </param>
    /// <param name="positionBias">Added to the scores and differentiated (T5's relative bias): [batch or 1, Hq, Tq, Tk], or null.</param>
    /// <param name="scale">Multiplies Q·Kᵀ (1/√D for most models, 1 for T5).</param>
    /// <param name="replaceFutureScores">
    /// GPT-2's causal masking: the scaled score of every key after the query's own position
    /// (query i sits at key position Tk − Tq + i) is replaced by float.MinValue before the mask is
    /// added, so it passes no gradient. Other families add their causal mask instead (false).
    /// </param>
    /// <param name="validKeys">
    /// When set, <paramref name="keys"/> and <paramref name="values"/> are a cache's storage
    /// [batch, Hkv, capacity, D] of which only the first <paramref name="validKeys"/> rows of each
    /// head are attended, read in place (no copy). Inference only: nothing here may need a gradient.
    /// </param>
    /// <returns>[batch, Hq, Tq, Dv].</returns>
    public static Tensor ScaledDotProductAttention(Tensor queries, Tensor keys, Tensor values, Tensor? additiveMask, Tensor? positionBias, float scale,
        bool replaceFutureScores = false, int validKeys = -1)
    {
        ArgumentNullException.ThrowIfNull(queries);
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(values);
        const string op = "ScaledDotProductAttention";
        if (queries.Rank != 4 || keys.Rank != 4 || values.Rank != 4)
            throw ShapeError(op, $"queries {queries.Shape}, keys {keys.Shape} and values {values.Shape} must all be [batch, heads, length, headDim].");
        int b = queries.Shape[0], hq = queries.Shape[1], tq = queries.Shape[2], d = queries.Shape[3];
        int hkv = keys.Shape[1], keyRows = keys.Shape[2], dv = values.Shape[3];
        if (validKeys > keyRows)
            throw ShapeError(op, $"validKeys {validKeys} exceeds the {keyRows} rows of keys {keys.Shape}.");
        int tk = validKeys >= 0 ? validKeys : keyRows;
        if (validKeys >= 0 && Tape.Needs(queries, keys, values, positionBias))
            throw new ArgumentException(
                $"{op}: validKeys reads a cache in place and is for inference; a gradient is needed here (run under Autograd.NoGrad()).",
                nameof(validKeys));
        if (keys.Shape[0] != b || values.Shape[0] != b)
            throw ShapeError(op, $"batch sizes differ: queries {queries.Shape}, keys {keys.Shape}, values {values.Shape}.");
        if (keys.Shape[3] != d)
            throw ShapeError(op, $"queries {queries.Shape} and keys {keys.Shape} have different head sizes.");
        if (values.Shape[1] != hkv || values.Shape[2] != keyRows)
            throw ShapeError(op, $"keys {keys.Shape} and values {values.Shape} must share heads and length.");
        if (hkv == 0 || hq % hkv != 0)
            throw ShapeError(op, $"query heads {hq} must be a multiple of key/value heads {hkv}.");
        CheckScoreOperand(op, "additiveMask", additiveMask, b, hq, tq, tk, allowHeadOne: true);
        CheckScoreOperand(op, "positionBias", positionBias, b, hq, tq, tk, allowHeadOne: false);

        var output = Tensor.Uninitialized(new Shape(b, hq, tq, dv));
        var task = AttentionTask.ForThread;
        task.Set(queries, keys, values, additiveMask, positionBias, scale, replaceFutureScores, output, backward: false, null);
        task.SetKeyRows(tk, keyRows);
        WorkerPool.Run(task, b * hkv);
        task.Clear();
        // Backward recomputes the probabilities head by head from Q, K and the mask instead of
        // keeping them ([batch, heads, Tq, Tk] per layer, the largest activation of a training step).
        if (Tape.Needs(queries, keys, values, positionBias))
            Tape.Record(new TapeEntry
            {
                Op = AttentionBackward.Instance, Output = output, A = queries, B = keys, C = values, D = positionBias, Saved0 = additiveMask,
                Float0 = scale, Int0 = replaceFutureScores ? 1 : 0
            });
        return output;
    }

    private static void CheckScoreOperand(string op, string name, Tensor? t, int b, int hq, int tq, int tk, bool allowHeadOne)
    {
        if (t is null) return;
        bool ok = t.Rank == 4 && (t.Shape[0] == b || t.Shape[0] == 1) && (t.Shape[1] == hq || (allowHeadOne && t.Shape[1] == 1))
            && t.Shape[2] == tq && t.Shape[3] == tk;
        if (!ok)
            throw ShapeError(op,
                $"{name} {t.Shape} must be " +
                $"[{b} or 1, {(allowHeadOne ? hq + " or 1" : hq.ToString(System.Globalization.CultureInfo.InvariantCulture))}, {tq}, {tk}].");
    }

    /// <summary>Work for one (batch row, key/value head): every query head of its group, forward or backward.</summary>
    private sealed class AttentionTask : ParallelTask
    {
        [ThreadStatic] private static AttentionTask? t_instance;
        [ThreadStatic] private static float[]? t_scratch;

        // Query rows per block when future scores are replaced: block [i0, i0 + QueryBlock) multiplies only the keys
        // its last row sees, so at Tq = Tk the products skip about half the scores (the upper triangle beyond the
        // diagonal blocks), and one block's scores stay in L2.
        private const int QueryBlock = 64;

        // Per query row of the head in hand: whether its softmax covered only its valid keys.
        [ThreadStatic] private static bool[]? t_trimmed;

        private Tensor? _q, _k, _v, _mask, _bias, _out, _gradOut;
        private float _scale;
        private bool _replaceFuture;
        private bool _backward;
        private bool _sharedBiasGrad;

        // A position bias shared by a batch of several rows: each row's share of its gradient goes to its own slice here
        // and the slices are added in batch order after the run, so the sum does not depend on which worker ran which
        // row (a lock around one sum did: a resumed run must end with the same bits as an uninterrupted one).
        private float[] _sharedBiasGradients = [];
        private int _validKeys = -1, _keyRows = -1;

        /// <summary>Attend the first <paramref name="valid"/> of every head's <paramref name="rows"/> key rows (a cache read in place).</summary>
        public void SetKeyRows(int valid, int rows) => (_validKeys, _keyRows) = (valid, rows);

        public static AttentionTask ForThread => t_instance ??= new AttentionTask();

        public void Set(Tensor q, Tensor k, Tensor v, Tensor? mask, Tensor? bias, float scale, bool replaceFuture, Tensor? output, bool backward,
            Tensor? gradOut)
        {
            (_q, _k, _v, _mask, _bias, _scale, _out, _backward, _gradOut) = (q, k, v, mask, bias, scale, output, backward, gradOut);
            _replaceFuture = replaceFuture;
            _sharedBiasGrad = backward && bias is { RequiresGrad: true } && bias.Shape[0] == 1 && q.Shape[0] > 1;
            if (!_sharedBiasGrad) return;
            int length = q.Shape[0] * bias!.Length;
            if (_sharedBiasGradients.Length < length) _sharedBiasGradients = new float[length];
            else Array.Clear(_sharedBiasGradients, 0, length);
        }

        /// <summary>After a backward run: adds the batch rows' shares of a batch-shared bias's gradient, in batch order.</summary>
        public void AddSharedBiasGradients()
        {
            if (!_sharedBiasGrad) return;
            var gb = Tape.GradOf(_bias);
            for (int b = 0; b < _q!.Shape[0]; b++) TensorPrimitives.Add(gb, _sharedBiasGradients.AsSpan(b * gb.Length, gb.Length), gb);
        }

        public void Clear()
        {
            (_q, _k, _v, _mask, _bias, _out, _gradOut) = (null, null, null, null, null, null, null);
            (_validKeys, _keyRows) = (-1, -1);
        }

        private static Span<float> Scratch(int length)
        {
            var s = t_scratch;
            if (s is null || s.Length < length) t_scratch = s = new float[length];
            return s.AsSpan(0, length);
        }

        public override void Execute(int index)
        {
            Tensor q = _q!, k = _k!, v = _v!;
            int hq = q.Shape[1], tq = q.Shape[2], d = q.Shape[3];
            int hkv = k.Shape[1], dv = v.Shape[3];
            int rows = _keyRows >= 0 ? _keyRows : k.Shape[2], tk = _validKeys >= 0 ? _validKeys : rows;
            int group = hq / hkv;
            int batch = index / hkv, kvHead = index % hkv;
            var kBlock = k.Span.Slice((batch * hkv + kvHead) * rows * d, tk * d);
            var vBlock = v.Span.Slice((batch * hkv + kvHead) * rows * dv, tk * dv);
            // With replaced future scores the queries go in blocks, each attending only the keys its last row sees.
            int block = _replaceFuture ? Math.Min(QueryBlock, tq) : tq;
            // One block's probabilities live only in this worker's scratch (backward recomputes them).
            var scratch = Scratch(_backward ? 2 * block * tk : block * tk);
            for (int g = 0; g < group; g++)
            {
                int head = kvHead * group + g;
                int bh = batch * hq + head;
                var qHead = q.Span.Slice(bh * tq * d, tq * d);
                for (int i0 = 0; i0 < tq; i0 += block)
                {
                    int count = Math.Min(block, tq - i0);
                    var p = scratch.Slice(0, count * tk);
                    int keys = Probabilities(qHead, kBlock, p, batch, head, i0, count, tq, tk, d);
                    if (!_backward)
                        Gemm.Multiply(false, false, count, dv, keys, 1f, p, tk, vBlock, dv, 0f, _out!.Span.Slice((bh * tq + i0) * dv, count * dv), dv);
                    else
                        Backward(qHead, kBlock, vBlock, p, scratch.Slice(count * tk, count * tk), batch, head, bh, kvHead, i0, count, keys, tq, tk, d, dv);
                }
            }
        }

        /// <summary>
        /// softmax(scale·Q·Kᵀ (future scores replaced) + mask + bias) of query rows [i0, i0 + count) of one head, into
        /// <paramref name="scores"/> (row stride <paramref name="tk"/>). Returns how many leading keys the rows may weigh:
        /// with replaced future scores, those the block's last row sees (Q·Kᵀ is computed for no others), else all.
        /// </summary>
        private int Probabilities(ReadOnlySpan<float> qHead, ReadOnlySpan<float> kBlock, Span<float> scores, int batch, int head, int i0, int count,
            int tq, int tk, int d)
        {
            int visible = ValidKeys(i0 + count - 1, tq, tk);
            Gemm.Multiply(false, true, count, visible, d, _scale, qHead.Slice(i0 * d, count * d), d, kBlock, d, 0f, scores, tk);
            int keys = visible;
            var trimmed = Trimmed(count);
            for (int r = 0; r < count; r++)
            {
                var row = scores.Slice(r * tk, tk);
                int i = i0 + r, valid = ValidKeys(i, tq, tk);
                AddScoreOperands(row, batch, head, i, tq, tk, 0, valid);
                trimmed[r] = valid < tk && SoftmaxOfValidKeys(row[..visible], valid);
                if (trimmed[r]) continue;
                // The full-row softmax HF computes: every replaced future score is float.MinValue plus the operands.
                row[valid..].Fill(float.MinValue);
                AddScoreOperands(row, batch, head, i, tq, tk, valid, tk);
                SoftmaxRow(row, row, log: false);
                keys = tk;
            }
            // A full-row softmax widens the block's products to every key: the other rows are zero there too.
            if (keys > visible)
                for (int r = 0; r < count; r++)
                    if (trimmed[r]) scores.Slice(r * tk + visible, keys - visible).Clear();
            return keys;
        }

        /// <summary>dS = P ⊙ (dP − Σ P·dP) in place, in one pass after the dot (rows are short: call overhead counts).</summary>
        private static void SoftmaxGradientRow(Span<float> gradient, ReadOnlySpan<float> probabilities)
        {
            float dot = TensorPrimitives.Dot(gradient, probabilities);
            int j = 0;
            ref float g = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(gradient);
            ref float pr = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(probabilities);
            if (Vector512.IsHardwareAccelerated)
            {
                var dotV = Vector512.Create(dot);
                for (; j + 16 <= gradient.Length; j += 16)
                    Vector512.StoreUnsafe((Vector512.LoadUnsafe(ref g, (nuint)j) - dotV) * Vector512.LoadUnsafe(ref pr, (nuint)j), ref g, (nuint)j);
            }
            for (; j < gradient.Length; j++) gradient[j] = (gradient[j] - dot) * probabilities[j];
        }

        private static Span<bool> Trimmed(int rows)
        {
            var t = t_trimmed;
            if (t is null || t.Length < rows) t_trimmed = t = new bool[rows];
            return t.AsSpan(0, rows);
        }

        /// <summary>Keys row <paramref name="i"/> may see: all, or with future scores replaced, those up to its own position.</summary>
        private int ValidKeys(int i, int tq, int tk) => _replaceFuture ? Math.Clamp(tk - tq + i + 1, 0, tk) : tk;

        /// <summary>
        /// Softmax of a causal row over its first <paramref name="valid"/> keys only, zero beyond. The
        /// replaced future scores sit at float.MinValue, so once a valid score is real their exponentials
        /// are exactly 0: skipping them changes nothing and halves the work. A row with no real valid
        /// score (a fully masked padding query) returns false and takes the full-row softmax, as HF does.
        /// </summary>
        private static bool SoftmaxOfValidKeys(Span<float> row, int valid)
        {
            if (valid == 0) return false;
            var keys = row[..valid];
            float max = TensorPrimitives.Max(keys);
            if (!(max > -1e30f)) return false;
            TensorPrimitives.Subtract(keys, max, keys);
            ExpNormalize(keys);
            row[valid..].Clear();
            return true;
        }

        /// <summary>Adds the mask and the position bias to keys [from, to) of query row <paramref name="i"/>'s scores.</summary>
        private void AddScoreOperands(Span<float> row, int batch, int head, int i, int tq, int tk, int from, int to)
        {
            if (from >= to) return;
            AddScoreOperand(_mask, row, batch, head, i, tq, tk, from, to);
            AddScoreOperand(_bias, row, batch, head, i, tq, tk, from, to);
        }

        private static void AddScoreOperand(Tensor? operand, Span<float> row, int batch, int head, int i, int tq, int tk, int from, int to)
        {
            if (operand is null) return;
            var operandRow = operand.Span.Slice(ScoreRowOffset(operand.Shape, batch, head, i, tq, tk), tk);
            TensorPrimitives.Add(row[from..to], operandRow[from..to], row[from..to]);
        }

        /// <summary>
        /// Where query row <paramref name="i"/> of (batch, head) starts in a [batch or 1, heads or 1, Tq, Tk] score operand
        /// or its gradient.
        /// </summary>
        private static int ScoreRowOffset(Shape operand, int batch, int head, int i, int tq, int tk)
        {
            int ob = operand[0] == 1 ? 0 : batch;
            int oh = operand[1] == 1 ? 0 : head;
            return (((ob * operand[1]) + oh) * tq + i) * tk;
        }

        /// <summary>
        /// Gradients of query rows [i0, i0 + count) of one head from their probabilities <paramref name="p"/> (of which the
        /// first <paramref name="keys"/> columns can be non-zero): dQ for those rows, their share of dK and dV.
        /// </summary>
        private void Backward(ReadOnlySpan<float> qHead, ReadOnlySpan<float> kBlock, ReadOnlySpan<float> vBlock, ReadOnlySpan<float> p, Span<float> ds,
            int batch, int head, int bh, int kvHead, int i0, int count, int keys, int tq, int tk, int d, int dv)
        {
            Tensor q = _q!, k = _k!, v = _v!;
            var gOut = _gradOut!.Span.Slice((bh * tq + i0) * dv, count * dv);
            var gq = Tape.GradOf(q);
            var gk = Tape.GradOf(k);
            var gv = Tape.GradOf(v);
            int hkv = k.Shape[1];
            int kvOffset = (batch * hkv + kvHead) * tk;
            if (keys == 0) return;
            // dV += Pᵀ·dO
            if (!gv.IsEmpty) Gemm.Multiply(true, false, keys, dv, count, 1f, p, tk, gOut, dv, 1f, gv.Slice(kvOffset * dv, keys * dv), dv);
            bool needScores = !gq.IsEmpty || !gk.IsEmpty || _bias is { RequiresGrad: true };
            if (!needScores) return;
            // dP = dO·Vᵀ, then dS = P ⊙ (dP − rowsum(dP ⊙ P)).
            Gemm.Multiply(false, true, count, keys, dv, 1f, gOut, dv, vBlock, dv, 0f, ds, tk);
            // Set by the Probabilities call that just made p for these rows, on this thread.
            var trimmed = Trimmed(count);
            for (int r = 0; r < count; r++)
            {
                int valid = ValidKeys(i0 + r, tq, tk);
                // A row whose softmax covered only its valid keys has zero probability beyond them.
                int n = trimmed[r] ? valid : keys;
                SoftmaxGradientRow(ds.Slice(r * tk, n), p.Slice(r * tk, n));
                // Replaced scores are constants: no gradient reaches Q or K through them.
                if (valid < keys) ds.Slice(r * tk + valid, keys - valid).Clear();
            }
            if (_bias is { RequiresGrad: true } bias)
            {
                var target = _sharedBiasGrad ? _sharedBiasGradients.AsSpan(batch * bias.Length, bias.Length) : Tape.GradOf(bias);
                AddBiasGradient(target, bias.Shape, ds, batch, head, i0, count, keys, tq, tk);
            }
            if (!gq.IsEmpty)
                Gemm.Multiply(false, false, count, d, keys, _scale, ds, tk, kBlock, d, 1f, gq.Slice((bh * tq + i0) * d, count * d), d);
            if (!gk.IsEmpty)
                Gemm.Multiply(true, false, keys, d, count, _scale, ds, tk, qHead.Slice(i0 * d, count * d), d, 1f, gk.Slice(kvOffset * d, keys * d), d);
        }

        /// <summary>
        /// Adds dS of query rows [i0, i0 + count) (zero beyond <paramref name="keys"/>) to a gradient laid out as the
        /// position bias (<paramref name="shape"/>).
        /// </summary>
        private static void AddBiasGradient(Span<float> target, Shape shape, ReadOnlySpan<float> ds, int batch, int head, int i0, int count, int keys,
            int tq, int tk)
        {
            var gb = target.Slice(ScoreRowOffset(shape, batch, head, i0, tq, tk), count * tk);
            for (int r = 0; r < count; r++)
                TensorPrimitives.Add(gb.Slice(r * tk, keys), ds.Slice(r * tk, keys), gb.Slice(r * tk, keys));
        }
    }

    private sealed class AttentionBackward : IBackward
    {
        public static readonly AttentionBackward Instance = new();

        // Recomputing the probabilities needs Q, K and the mask; the output itself is never read.
        public TapeSlots Reads(in TapeEntry e) => TapeSlots.A | TapeSlots.B | TapeSlots.C | TapeSlots.D | TapeSlots.Saved0;

        public void Backward(ref TapeEntry e)
        {
            Tensor q = e.A!, k = e.B!, v = e.C!;
            // Touch the gradient buffers here, on the caller, so workers never race to create them.
            Tape.GradOf(q);
            Tape.GradOf(k);
            Tape.GradOf(v);
            Tape.GradOf(e.D);
            var task = AttentionTask.ForThread;
            task.Set(q, k, v, e.Saved0, e.D, e.Float0, e.Int0 == 1, null, backward: true, e.Output.Grad);
            WorkerPool.Run(task, q.Shape[0] * k.Shape[1]);
            task.AddSharedBiasGradients();
            task.Clear();
        }
    }
}
