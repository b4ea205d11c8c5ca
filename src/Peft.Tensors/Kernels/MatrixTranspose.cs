using Peft.Tensors.Threading;

namespace Peft.Tensors.Kernels;

/// <summary>
/// Out-of-place transpose of a row-major float matrix, in 8×8 vector blocks and split by rows over the worker pool.
/// Loading a GPT-2 checkpoint turns every Conv1D weight ([in, out] on disk) into [out, in] with it: the scalar loop
/// it replaces took about half of a gpt2-small load.
/// </summary>
public static unsafe class MatrixTranspose
{
    // Rows per parallel piece: each piece writes a 64-float column band of the destination, 256 bytes per row, so
    // two workers never share a destination cache line.
    private const int RowsPerPiece = 64;

    // Below this many elements a single thread is done before the pool would be awake.
    private const int ParallelElements = 1 << 16;

    /// <summary>
    /// Writes the transpose of <paramref name="source"/> (<paramref name="rows"/> × <paramref name="columns"/>,
    /// row-major) to <paramref name="destination"/> (<paramref name="columns"/> × <paramref name="rows"/>):
    /// destination[c·rows + r] = source[r·columns + c].
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative.</exception>
    /// <exception cref="ArgumentException">A span does not hold exactly rows × columns values, or the two overlap.</exception>
    public static void Transpose(ReadOnlySpan<float> source, int rows, int columns, Span<float> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(columns);
        long count = (long)rows * columns;
        if (source.Length != count)
            throw new ArgumentException($"The source must hold {rows} × {columns} = {count} values; it holds {source.Length}.", nameof(source));
        if (destination.Length != count)
            throw new ArgumentException($"The destination must hold {rows} × {columns} = {count} values; it holds {destination.Length}.", nameof(destination));
        if (count == 0) return;
        if (source.Overlaps(destination))
            throw new ArgumentException("The source and destination overlap; the transpose is out of place.", nameof(destination));
        fixed (float* src = source)
        fixed (float* dst = destination)
        {
            int pieces = (rows + RowsPerPiece - 1) / RowsPerPiece;
            if (count < ParallelElements || pieces == 1 || WorkerPool.Degree == 1)
            {
                GemmPacking.Transpose(src, columns, rows, columns, dst, rows, 1f);
                return;
            }
            WorkerPool.Run(new Pieces(src, dst, rows, columns), pieces);
        }
    }

    private sealed class Pieces(float* source, float* destination, int rows, int columns) : ParallelTask
    {
        public override void Execute(int index)
        {
            int r0 = index * RowsPerPiece;
            int count = Math.Min(RowsPerPiece, rows - r0);
            GemmPacking.Transpose(source + (nint)r0 * columns, columns, count, columns, destination + r0, rows, 1f);
        }
    }
}
