namespace AnomalyZT.Ingest;

/// <summary>What became of one line of a body.</summary>
public enum LineStatus
{
    /// <summary>The line produced an <see cref="AnomalyZT.Grains.Interfaces.EngineEvent"/>.</summary>
    Event,

    /// <summary>A valid record that is intentionally not scored (e.g. a Kubernetes audit
    /// <c>RequestReceived</c> stage); counted as accepted.</summary>
    Filtered,

    /// <summary>Not a record: a blank line or a Zeek <c>#</c> header line. Not counted as sent.</summary>
    Control,

    /// <summary>A bad record; see <see cref="LineError.Reason"/>.</summary>
    Rejected,
}
