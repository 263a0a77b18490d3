namespace AnomalyZT.Grains.Detectors.SpectralResidual;

/// <content>Versioned binary state: the parameters (checked on read) and the window, oldest value first.</content>
public sealed partial class SrStreamingDetector
{
    private const byte StateVersion = 1;

    /// <summary>Bytes <see cref="Write"/> produces for the current state.</summary>
    public int StateSize =>
        1 + SevenBitSize(WindowSize) + SevenBitSize(BackAddWindowSize) + SevenBitSize(LookaheadWindowSize)
        + SevenBitSize(AveragingWindowSize) + SevenBitSize(JudgementWindowSize) + sizeof(double)
        + SevenBitSize(_count) + _count * sizeof(double);

    /// <summary>
    /// Writes the state: version byte, the five window parameters (7-bit varints), threshold, count (varint) and
    /// the held values oldest first. A full window of 64 takes 527 bytes.
    /// </summary>
    public void Write(BinaryWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Write(StateVersion);
        writer.Write7BitEncodedInt(WindowSize);
        writer.Write7BitEncodedInt(BackAddWindowSize);
        writer.Write7BitEncodedInt(LookaheadWindowSize);
        writer.Write7BitEncodedInt(AveragingWindowSize);
        writer.Write7BitEncodedInt(JudgementWindowSize);
        writer.Write(Threshold);
        writer.Write7BitEncodedInt(_count);
        var n = _ring.Length;
        var start = _count < n ? 0 : _head;
        for (var i = 0; i < _count; i++)
        {
            writer.Write(_ring[(start + i) % n]);
        }
    }

    /// <summary>
    /// Replaces this detector's window with one written by <see cref="Write"/>. The writer must have had the same
    /// parameters; afterwards the detector continues exactly as the writer would have.
    /// </summary>
    /// <exception cref="InvalidDataException">Unknown version, different parameters, or a corrupt window;
    /// the detector is left unchanged.</exception>
    public void Read(BinaryReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var version = reader.ReadByte();
        if (version != StateVersion)
        {
            throw new InvalidDataException($"SR state version is {version}; this build reads version {StateVersion}.");
        }

        ExpectSame(nameof(WindowSize), WindowSize, reader.Read7BitEncodedInt());
        ExpectSame(nameof(BackAddWindowSize), BackAddWindowSize, reader.Read7BitEncodedInt());
        ExpectSame(nameof(LookaheadWindowSize), LookaheadWindowSize, reader.Read7BitEncodedInt());
        ExpectSame(nameof(AveragingWindowSize), AveragingWindowSize, reader.Read7BitEncodedInt());
        ExpectSame(nameof(JudgementWindowSize), JudgementWindowSize, reader.Read7BitEncodedInt());
        var threshold = reader.ReadDouble();
        if (threshold.CompareTo(Threshold) != 0)
        {
            throw new InvalidDataException($"SR state has threshold {threshold}; this detector has {Threshold}.");
        }

        var count = reader.Read7BitEncodedInt();
        var n = _ring.Length;
        if (count < 0 || count > n)
        {
            throw new InvalidDataException($"SR state holds {count} values; it must hold between 0 and {n}.");
        }

        // Decode into the map's window first, so a corrupt stream leaves the ring as it was.
        var staged = _map.Window;
        for (var i = 0; i < count; i++)
        {
            var v = reader.ReadDouble();
            if (!double.IsFinite(v))
            {
                throw new InvalidDataException($"SR state value {i} is {v}; values must be finite.");
            }

            staged[i] = v;
        }

        staged[..count].CopyTo(_ring);
        _ring.AsSpan(count).Clear();
        _count = count;
        _head = count == n ? 0 : count;
    }

    private static void ExpectSame(string name, int expected, int actual)
    {
        if (expected != actual)
        {
            throw new InvalidDataException($"SR state has {name} {actual}; this detector has {expected}.");
        }
    }

    private static int SevenBitSize(int value)
    {
        var size = 1;
        for (var v = (uint)value; v >= 0x80; v >>= 7)
        {
            size++;
        }

        return size;
    }
}
