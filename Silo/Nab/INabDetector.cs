namespace AnomalyZT.Silo.Nab;

/// <summary>
/// A streaming detector under NAB: the runner creates one instance per file and calls <see cref="Score"/>
/// once per row, in file order, before it shows the detector the next row — so no score can depend on
/// a later row. The seam between the harness and the library's detectors.
/// </summary>
public interface INabDetector
{
    /// <summary>Consumes one row and returns its anomaly score, which must be in [0, 1].</summary>
    /// <param name="timestamp">The row's timestamp (UTC).</param>
    /// <param name="value">The row's value.</param>
    double Score(DateTime timestamp, double value);
}
