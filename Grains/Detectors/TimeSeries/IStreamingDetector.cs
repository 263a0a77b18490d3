namespace AnomalyZT.Grains.Detectors.TimeSeries;

/// <summary>A streaming time-series detector with ML.NET-shaped output, one instance per series.</summary>
public interface IStreamingDetector
{
    /// <summary>Scores one value, then learns it.</summary>
    TimeSeriesOutput Update(double x);

    /// <summary>Writes the state.</summary>
    void Write(BinaryWriter writer);

    /// <summary>Restores what <see cref="Write"/> wrote.</summary>
    void Read(BinaryReader reader);
}
