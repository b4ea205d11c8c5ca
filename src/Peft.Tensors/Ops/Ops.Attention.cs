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
    /// <param name="prefixKeys">
    /// Key rows attended in front of <paramref name="keys"/> (prefix tuning), [batch or 1, Hkv, P, D], or null: the
    /// attention is that over their concatenation (Tk above counts P + the rows of keys), but the concatenation is never
    /// made, so a training step does not keep a batch-sized copy of every layer's prefix and keys. A batch of 1 is the
    /// same prefix for every row (its gradient is the sum over the rows). Not with <paramref name="validKeys"/>.
    /// </param>
    /// <param name="prefixValues">The value rows that go with <paramref name="prefixKeys"/>, [batch or 1, Hkv, P, Dv].</param>
    /// <returns>[batch, Hq, Tq, Dv].</returns>
    public static Tensor ScaledDotProductAttention(Tensor queries, Tensor keys, Tensor values, Tensor? additiveMask, Tensor? positionBias, float scale,
        bool replaceFutureScores = false, int validKeys = -1, Tensor? prefixKeys = null, Tensor? prefixValues = null)
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
        int prefix = CheckPrefix(op, prefixKeys, prefixValues, keys, values, validKeys);
        int tk = validKeys >= 0 ? validKeys : prefix + keyRows;
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
        task.Set(queries, keys, values, additiveMask, positionBias, scale, replaceFutureScores, output, backward: false, null, prefixKeys, prefixValues);
        if (validKeys >= 0) task.SetKeyRows(tk, keyRows);
        WorkerPool.Run(task, b * hkv);
        task.Clear();
        // Backward recomputes the probabilities head by head from Q, K and the mask instead of
        // keeping them ([batch, heads, Tq, Tk] per layer, the largest activation of a training step).
        if (Tape.Needs(queries, keys, values, positionBias) || Tape.Needs(prefixKeys, prefixValues))
            Tape.Record(new TapeEntry
            {
                Op = AttentionBackward.Instance, Output = output, A = queries, B = keys, C = values, D = positionBias, Saved0 = additiveMask,
                Saved1 = prefixKeys, Saved2 = prefixValues, Float0 = scale, Int0 = replaceFutureScores ? 1 : 0
            });
        return output;
    }

    /// <summary>Checks the prefix rows against the keys and values; returns their count (0 without a prefix).</summary>
    private static int CheckPrefix(string op, Tensor? prefixKeys, Tensor? prefixValues, Tensor keys, Tensor values, int validKeys)
    {
        if (prefixKeys is null && prefixValues is null) return 0;
        if (prefixKeys is null || prefixValues is null)
            throw new ArgumentException($"{op}: prefixKeys and prefixValues go together; only one was given.");
        if (validKeys >= 0)
            throw new ArgumentException($"{op}: a prefix is attended in front of the given keys; a cache read in place (validKeys) already holds its own.");
        if (prefixKeys.Rank != 4 || prefixValues.Rank != 4)
            throw ShapeError(op, $"prefixKeys {prefixKeys.Shape} and prefixValues {prefixValues.Shape} must be [batch or 1, heads, length, headDim].");
        int batch = prefixKeys.Shape[0], rows = prefixKeys.Shape[2];
        if ((batch != 1 && batch != keys.Shape[0]) || prefixKeys.Shape[1] != keys.Shape[1] || prefixKeys.Shape[3] != keys.Shape[3])
            throw ShapeError(op, $"prefixKeys {prefixKeys.Shape} must be [{keys.Shape[0]} or 1, {keys.Shape[1]}, length, {keys.Shape[3]}] to go in front of keys {keys.Shape}.");
        if (prefixValues.Shape[0] != batch || prefixValues.Shape[1] != values.Shape[1] || prefixValues.Shape[2] != rows || prefixValues.Shape[3] != values.Shape[3])
            throw ShapeError(op, $"prefixValues {prefixValues.Shape} must be [{batch}, {values.Shape[1]}, {rows}, {values.Shape[3]}] to go with prefixKeys {prefixKeys.Shape} and values {values.Shape}.");
        return rows;
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

        private Tensor? _q, _k, _v, _mask, _bias, _out, _gradOut, _prefixKeys, _prefixValues;

        // Per worker: a (batch row, head)'s prefix and new keys/values side by side, and in backward their gradients.
        [ThreadStatic] private static float[]? t_joinedKeys, t_joinedValues, t_joinedKeyGradients, t_joinedValueGradients;

        // A prefix shared by the batch: each row's share of its gradient goes to its own slice, added in batch order after
        // the run (as the shared position bias's), so the sum does not depend on which worker ran which row.
        private float[] _sharedPrefixKeyGradients = [], _sharedPrefixValueGradients = [];
        private bool _sharedPrefixGrad;
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
            Tensor? gradOut, Tensor? prefixKeys, Tensor? prefixValues)
        {
            (_q, _k, _v, _mask, _bias, _scale, _out, _backward, _gradOut) = (q, k, v, mask, bias, scale, output, backward, gradOut);
            (_prefixKeys, _prefixValues) = (prefixKeys, prefixValues);
            _replaceFuture = replaceFuture;
            _sharedPrefixGrad = backward && prefixKeys is not null && prefixKeys.Shape[0] == 1 && q.Shape[0] > 1
                && (prefixKeys.RequiresGrad || prefixValues!.RequiresGrad);
            if (_sharedPrefixGrad)
            {
                ClearedSlices(ref _sharedPrefixKeyGradients, q.Shape[0] * prefixKeys!.Length);
                ClearedSlices(ref _sharedPrefixValueGradients, q.Shape[0] * prefixValues!.Length);
            }
            _sharedBiasGrad = backward && bias is { RequiresGrad: true } && bias.Shape[0] == 1 && q.Shape[0] > 1;
            if (_sharedBiasGrad) ClearedSlices(ref _sharedBiasGradients, q.Shape[0] * bias!.Length);
        }

        private static void ClearedSlices(ref float[] buffer, int length)
        {
            if (buffer.Length < length) buffer = new float[length];
            else Array.Clear(buffer, 0, length);
        }

        /// <summary>After a backward run: adds the batch rows' shares of a batch-shared bias's or prefix's gradient, in batch order.</summary>
        public void AddSharedGradients()
        {
            int batch = _q!.Shape[0];
            if (_sharedBiasGrad) AddSlices(Tape.GradOf(_bias), _sharedBiasGradients, batch);
            if (!_sharedPrefixGrad) return;
            AddSlices(Tape.GradOf(_prefixKeys), _sharedPrefixKeyGradients, batch);
            AddSlices(Tape.GradOf(_prefixValues), _sharedPrefixValueGradients, batch);
        }

        private static void AddSlices(Span<float> target, float[] slices, int batch)
        {
            if (target.IsEmpty) return;
            for (int b = 0; b < batch; b++) TensorPrimitives.Add(target, slices.AsSpan(b * target.Length, target.Length), target);
        }

        public void Clear()
        {
            (_q, _k, _v, _mask, _bias, _out, _gradOut, _prefixKeys, _prefixValues) = (null, null, null, null, null, null, null, null, null);
            (_validKeys, _keyRows) = (-1, -1);
        }

        /// <summary>The first <paramref name="length"/> floats of a per-worker buffer, grown when too short (contents undefined).</summary>
        private static Span<float> WorkerBuffer(ref float[]? buffer, int length)
        {
            if (buffer is null || buffer.Length < length) buffer = new float[length];
            return buffer.AsSpan(0, length);
        }

        /// <summary>The prefix rows of (batch row, head) followed by its <paramref name="rows"/> new rows, into <paramref name="joined"/>.</summary>
        private static void Join(Tensor prefix, Tensor fresh, int batch, int head, int rows, Span<float> joined)
        {
            int heads = fresh.Shape[1], p = prefix.Shape[2], width = fresh.Shape[3];
            int prefixBatch = prefix.Shape[0] == 1 ? 0 : batch;
            prefix.Span.Slice((prefixBatch * heads + head) * p * width, p * width).CopyTo(joined);
            fresh.Span.Slice((batch * heads + head) * rows * width, rows * width).CopyTo(joined[(p * width)..]);
        }

        /// <summary>Adds a joined gradient's prefix rows to the prefix's gradient (or this row's share) and the rest to the new rows'.</summary>
        private void SplitJoinedGradient(ReadOnlySpan<float> joined, Tensor prefix, Tensor fresh, float[] sharedSlices, int batch, int head, int rows)
        {
            int heads = fresh.Shape[1], p = prefix.Shape[2], width = fresh.Shape[3];
            var gFresh = Tape.GradOf(fresh);
            if (!gFresh.IsEmpty)
            {
                var target = gFresh.Slice((batch * heads + head) * rows * width, rows * width);
                TensorPrimitives.Add(target, joined.Slice(p * width, rows * width), target);
            }
            if (!prefix.RequiresGrad) return;
            var gPrefix = _sharedPrefixGrad
                ? sharedSlices.AsSpan(batch * prefix.Length, prefix.Length)
                : Tape.GradOf(prefix);
            int prefixBatch = _sharedPrefixGrad || prefix.Shape[0] == 1 ? 0 : batch;
            var prefixTarget = gPrefix.Slice((prefixBatch * heads + head) * p * width, p * width);
            TensorPrimitives.Add(prefixTarget, joined[..(p * width)], prefixTarget);
        }

        public override void Execute(int index)
        {
            Tensor q = _q!, k = _k!, v = _v!;
            int hq = q.Shape[1], tq = q.Shape[2], d = q.Shape[3];
            int hkv = k.Shape[1], dv = v.Shape[3];
            int rows = _keyRows >= 0 ? _keyRows : k.Shape[2];
            int prefix = _prefixKeys?.Shape[2] ?? 0;
            int tk = _validKeys >= 0 ? _validKeys : prefix + rows;
            int group = hq / hkv;
            int batch = index / hkv, kvHead = index % hkv;
            ReadOnlySpan<float> kBlock, vBlock;
            Span<float> gkBlock = default, gvBlock = default;
            if (prefix == 0)
            {
                kBlock = k.Span.Slice((batch * hkv + kvHead) * rows * d, tk * d);
                vBlock = v.Span.Slice((batch * hkv + kvHead) * rows * dv, tk * dv);
                if (_backward)
                {
                    var gk = Tape.GradOf(k);
                    var gv = Tape.GradOf(v);
                    if (!gk.IsEmpty) gkBlock = gk.Slice((batch * hkv + kvHead) * tk * d, tk * d);
                    if (!gv.IsEmpty) gvBlock = gv.Slice((batch * hkv + kvHead) * tk * dv, tk * dv);
                }
            }
            else
            {
                // The prefix and the new rows side by side for this (batch row, head) only: the same products as over
                // a concatenated tensor, without keeping one.
                var joinedKeys = WorkerBuffer(ref t_joinedKeys, tk * d);
                var joinedValues = WorkerBuffer(ref t_joinedValues, tk * dv);
                Join(_prefixKeys!, k, batch, kvHead, rows, joinedKeys);
                Join(_prefixValues!, v, batch, kvHead, rows, joinedValues);
                kBlock = joinedKeys;
                vBlock = joinedValues;
                if (_backward)
                {
                    if (k.RequiresGrad || _prefixKeys!.RequiresGrad) (gkBlock = WorkerBuffer(ref t_joinedKeyGradients, tk * d)).Clear();
                    if (v.RequiresGrad || _prefixValues!.RequiresGrad) (gvBlock = WorkerBuffer(ref t_joinedValueGradients, tk * dv)).Clear();
                }
            }
            // With replaced future scores the queries go in blocks, each attending only the keys its last row sees.
            int block = _replaceFuture ? Math.Min(QueryBlock, tq) : tq;
            // One block's probabilities live only in this worker's scratch (backward recomputes them).
            var scratch = WorkerBuffer(ref t_scratch, _backward ? 2 * block * tk : block * tk);
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
                        Backward(qHead, kBlock, vBlock, gkBlock, gvBlock, p, scratch.Slice(count * tk, count * tk), batch, head, bh, i0, count, keys,
                            tq, tk, d, dv);
                }
            }
            if (_backward && prefix > 0)
            {
                if (!gkBlock.IsEmpty) SplitJoinedGradient(gkBlock, _prefixKeys!, k, _sharedPrefixKeyGradients, batch, kvHead, rows);
                if (!gvBlock.IsEmpty) SplitJoinedGradient(gvBlock, _prefixValues!, v, _sharedPrefixValueGradients, batch, kvHead, rows);
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
        private void Backward(ReadOnlySpan<float> qHead, ReadOnlySpan<float> kBlock, ReadOnlySpan<float> vBlock, Span<float> gk, Span<float> gv,
            ReadOnlySpan<float> p, Span<float> ds, int batch, int head, int bh, int i0, int count, int keys, int tq, int tk, int d, int dv)
        {
            var gOut = _gradOut!.Span.Slice((bh * tq + i0) * dv, count * dv);
            var gq = Tape.GradOf(_q!);
            if (keys == 0) return;
            // dV += Pᵀ·dO (gk and gv: this (batch row, head)'s [tk, D] rows)
            if (!gv.IsEmpty) Gemm.Multiply(true, false, keys, dv, count, 1f, p, tk, gOut, dv, 1f, gv[..(keys * dv)], dv);
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
                Gemm.Multiply(true, false, keys, d, count, _scale, ds, tk, qHead.Slice(i0 * d, count * d), d, 1f, gk[..(keys * d)], d);
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

        // Recomputing the probabilities needs Q, K (and any prefix) and the mask; the output itself is never read.
        public TapeSlots Reads(in TapeEntry e) =>
            TapeSlots.A | TapeSlots.B | TapeSlots.C | TapeSlots.D | TapeSlots.Saved0 | TapeSlots.Saved1 | TapeSlots.Saved2;

        public void Backward(ref TapeEntry e)
        {
            Tensor q = e.A!, k = e.B!, v = e.C!;
            // Touch the gradient buffers here, on the caller, so workers never race to create them.
            Tape.GradOf(q);
            Tape.GradOf(k);
            Tape.GradOf(v);
            Tape.GradOf(e.D);
            Tape.GradOf(e.Saved1);
            Tape.GradOf(e.Saved2);
            var task = AttentionTask.ForThread;
            task.Set(q, k, v, e.Saved0, e.D, e.Float0, e.Int0 == 1, null, backward: true, e.Output.Grad, e.Saved1, e.Saved2);
            WorkerPool.Run(task, q.Shape[0] * k.Shape[1]);
            task.AddSharedGradients();
            task.Clear();
        }
    }
}
