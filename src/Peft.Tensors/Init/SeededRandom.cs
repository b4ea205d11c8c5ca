namespace Peft.Tensors;

/// <summary>
/// A small, fast, seedable generator (xoshiro128**) whose sequence is fixed by the seed on every
/// platform and .NET version, unlike <see cref="System.Random"/>'s unspecified algorithm. Used
/// for initialization and dropout so runs are reproducible and resumable.
/// </summary>
public sealed class SeededRandom
{
    private uint _s0, _s1, _s2, _s3;
    private float? _spareNormal;

    /// <summary>Creates a generator from a seed (SplitMix64 expands it into the state).</summary>
    public SeededRandom(ulong seed)
    {
        ulong x = seed;
        ulong a = SplitMix(ref x), b = SplitMix(ref x);
        _s0 = (uint)a; _s1 = (uint)(a >> 32); _s2 = (uint)b; _s3 = (uint)(b >> 32);
        if ((_s0 | _s1 | _s2 | _s3) == 0) _s0 = 1;
    }

    private static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>The generator's full state, for checkpoints (see <see cref="Restore"/>).</summary>
    public (uint, uint, uint, uint) State => (_s0, _s1, _s2, _s3);

    /// <summary>Restores a state captured with <see cref="State"/>.</summary>
    public void Restore((uint, uint, uint, uint) state)
    {
        (_s0, _s1, _s2, _s3) = state;
        _spareNormal = null;
    }

    /// <summary>The next 32 random bits.</summary>
    public uint NextUInt32()
    {
        uint result = uint.RotateLeft(_s1 * 5, 7) * 9;
        uint t = _s1 << 9;
        _s2 ^= _s0; _s3 ^= _s1; _s1 ^= _s2; _s0 ^= _s3;
        _s2 ^= t;
        _s3 = uint.RotateLeft(_s3, 11);
        return result;
    }

    /// <summary>Uniform in [0, 1) with 24 random bits.</summary>
    public float NextFloat() => (NextUInt32() >> 8) * (1f / 16777216f);

    /// <summary>Uniform integer in [0, exclusiveMax).</summary>
    public int NextInt(int exclusiveMax)
    {
        if (exclusiveMax <= 0) throw new ArgumentOutOfRangeException(nameof(exclusiveMax), $"exclusiveMax must be positive; got {exclusiveMax}.");
        return (int)(((ulong)NextUInt32() * (ulong)exclusiveMax) >> 32);
    }

    /// <summary>Standard normal sample (Box-Muller in double, pairs cached).</summary>
    public float NextNormal()
    {
        if (_spareNormal is { } spare)
        {
            _spareNormal = null;
            return spare;
        }
        double u1 = ((NextUInt32() >> 8) + 1) * (1.0 / 16777217.0);
        double u2 = (NextUInt32() >> 8) * (1.0 / 16777216.0);
        double r = Math.Sqrt(-2.0 * Math.Log(u1));
        _spareNormal = (float)(r * Math.Sin(2 * Math.PI * u2));
        return (float)(r * Math.Cos(2 * Math.PI * u2));
    }
}
