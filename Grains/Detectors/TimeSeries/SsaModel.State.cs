namespace AnomalyZT.Grains.Detectors.TimeSeries;

public sealed partial class SsaModel
{
    private const byte StateVersion = 1;

    /// <summary>Writes the trained model (L, r, U_r, α) and its state (s and the observations since training, oldest
    /// first): 5 bytes when untrained, else 13 + 8·(L·r + 2(L−1) + m) bytes with m ≤ L−1 observations.</summary>
    public void Write(BinaryWriter writer)
    {
        writer.Write(StateVersion);
        writer.Write(_windowSize);
        if (_windowSize == 0)
        {
            return;
        }

        writer.Write(_rank);
        WriteAll(writer, _basis);
        WriteAll(writer, _alpha);
        WriteAll(writer, _state);
        writer.Write(_observedCount);
        var lag = _windowSize - 1;
        for (var i = 0; i < _observedCount; i++)
        {
            var slot = _observedHead + i;
            writer.Write(_observed[slot >= lag ? slot - lag : slot]);
        }
    }

    /// <summary>Restores what <see cref="Write"/> wrote; the model then forecasts exactly as the one written.</summary>
    /// <exception cref="InvalidDataException">Unknown version, sizes outside this model's configuration, or non-finite values.</exception>
    public void Read(BinaryReader reader)
    {
        StateVersions.Check(reader.ReadByte(), StateVersion, "ssa-model");
        var windowSize = reader.ReadInt32();
        if (windowSize == 0)
        {
            Untrain();
            return;
        }

        if (windowSize < 2 || windowSize > SeasonalityWindowSize)
        {
            throw new InvalidDataException($"ssa window {windowSize} is outside [2, {SeasonalityWindowSize}]");
        }

        var rank = reader.ReadInt32();
        if (rank < 1 || rank > Math.Max(1, windowSize / 2))
        {
            throw new InvalidDataException($"ssa rank {rank} is outside [1, {Math.Max(1, windowSize / 2)}] for window {windowSize}");
        }

        Allocate(windowSize, rank);
        ReadAll(reader, _basis);
        ReadAll(reader, _alpha);
        ReadAll(reader, _state);
        var observed = reader.ReadInt32();
        if (observed < 0 || observed > windowSize - 1)
        {
            throw new InvalidDataException($"ssa state holds {observed} observations; at most {windowSize - 1} fit");
        }

        _observedCount = observed;
        ReadAll(reader, _observed.AsSpan(0, observed));
        _forecast = Dot(_alpha, _state);
    }

    private static void WriteAll(BinaryWriter writer, double[] values)
    {
        foreach (var v in values)
        {
            writer.Write(v);
        }
    }

    private static void ReadAll(BinaryReader reader, Span<double> into)
    {
        for (var i = 0; i < into.Length; i++)
        {
            var v = reader.ReadDouble();
            if (!double.IsFinite(v))
            {
                throw new InvalidDataException("ssa model state holds a non-finite value");
            }

            into[i] = v;
        }
    }
}
