namespace AnomalyZT.Grains.Detectors;

/// <summary>Distinct count in bounded memory: exact up to a small set, then a HyperLogLog sketch (Flajolet et al.
/// 2007) with 2^12 one-byte registers (standard error ≈ 1.04/√4096 ≈ 1.6 %).</summary>
/// <remarks>Used where a per-bucket set could grow without bound (a scanner's destinations). Hashes are 64-bit
/// stable hashes re-mixed with a splitmix64 finaliser, because FNV's low bits are too regular for register selection.</remarks>
public sealed class DistinctCounter
{
    private const int ExactLimit = 256;
    private const int Precision = 12;
    private const int Registers = 1 << Precision;
    private HashSet<ulong>? _exact = [];
    private byte[]? _registers;

    /// <summary>Counts <paramref name="hash"/> once.</summary>
    public void Add(ulong hash)
    {
        if (_exact is not null)
        {
            _exact.Add(hash);
            if (_exact.Count <= ExactLimit)
            {
                return;
            }

            // Past the exact limit: move everything into the sketch once.
            _registers = new byte[Registers];
            foreach (var h in _exact)
            {
                Sketch(h);
            }

            _exact = null;
            return;
        }

        Sketch(hash);
    }

    /// <summary>The (estimated, once past 256) number of distinct values.</summary>
    public double Count => _exact is not null ? _exact.Count : Estimate(_registers!);

    /// <summary>Empties the counter for reuse.</summary>
    public void Clear()
    {
        _exact ??= [];
        _exact.Clear();
        _registers = null;
    }

    private void Sketch(ulong hash)
    {
        var h = Mix(hash);
        var index = (int)(h >> (64 - Precision));
        var rank = (byte)(System.Numerics.BitOperations.LeadingZeroCount((h << Precision) | (1UL << (Precision - 1))) + 1);
        if (rank > _registers![index])
        {
            _registers[index] = rank;
        }
    }

    private static double Estimate(byte[] registers)
    {
        var sum = 0.0;
        var zeros = 0;
        foreach (var r in registers)
        {
            sum += Math.ScaleB(1.0, -r);
            if (r == 0)
            {
                zeros++;
            }
        }

        var m = (double)registers.Length;
        var alpha = 0.7213 / (1 + (1.079 / m));
        var raw = alpha * m * m / sum;
        // Small range: linear counting is more accurate while registers are still empty.
        return raw <= 2.5 * m && zeros > 0 ? m * Math.Log(m / zeros) : raw;
    }

    /// <summary>splitmix64 finaliser.</summary>
    internal static ulong Mix(ulong x)
    {
        x ^= x >> 30;
        x *= 0xbf58476d1ce4e5b9UL;
        x ^= x >> 27;
        x *= 0x94d049bb133111ebUL;
        x ^= x >> 31;
        return x;
    }

    /// <summary>Writes the counter: the exact set sorted, or the registers.</summary>
    public void Write(BinaryWriter writer)
    {
        if (_exact is not null)
        {
            writer.Write((byte)0);
            var hashes = new ulong[_exact.Count];
            _exact.CopyTo(hashes);
            Array.Sort(hashes);
            writer.Write(hashes.Length);
            foreach (var h in hashes)
            {
                writer.Write(h);
            }
        }
        else
        {
            writer.Write((byte)1);
            writer.Write(_registers!);
        }
    }

    /// <summary>Restores what <see cref="Write"/> wrote.</summary>
    public void Read(BinaryReader reader)
    {
        var mode = reader.ReadByte();
        if (mode == 0)
        {
            var count = reader.ReadInt32();
            if (count is < 0 or > ExactLimit)
            {
                throw new InvalidDataException($"distinct counter holds {count} exact values; at most {ExactLimit} are kept exactly");
            }

            _registers = null;
            _exact = new HashSet<ulong>(count);
            for (var i = 0; i < count; i++)
            {
                _exact.Add(reader.ReadUInt64());
            }
        }
        else if (mode == 1)
        {
            _exact = null;
            _registers = reader.ReadBytes(Registers);
            if (_registers.Length != Registers)
            {
                throw new InvalidDataException("distinct counter sketch is truncated");
            }
        }
        else
        {
            throw new InvalidDataException($"distinct counter mode {mode} is unknown");
        }
    }
}
