namespace AnomalyZT.Ingest;

/// <summary>A rejected line: where it was, why, and (the start of) what it said.</summary>
/// <param name="LineNumber">1-based line number over the whole body.</param>
/// <param name="Reason">A specific reason that starts with <c>line N</c>, e.g.
/// <c>line 5: missing required field 'start_time'</c>.</param>
/// <param name="Payload">The raw line without its line ending, truncated to <see cref="MaxPayloadBytes"/>.</param>
public sealed record LineError(int LineNumber, string Reason, byte[] Payload)
{
    /// <summary>How much of a rejected line is kept for the dead-letter record.</summary>
    public const int MaxPayloadBytes = 4096;
}
