using AnomalyZT.Grains.Interfaces;

namespace AnomalyZT.Ingest.Parsing;

/// <summary>Turns one line of one format into an event. An instance lives for one body and may keep
/// per-body state (the Zeek TSV header); it is not thread-safe.</summary>
internal interface ILineParser : IDisposable
{
    /// <summary>Parses a non-blank line without its line ending. Never throws for bad input.</summary>
    /// <param name="line">The line's bytes.</param>
    /// <param name="evt">The event when the result is <see cref="LineStatus.Event"/>.</param>
    /// <param name="reason">Why, when the result is <see cref="LineStatus.Rejected"/> (without the line number).</param>
    LineStatus Parse(ReadOnlySpan<byte> line, out EngineEvent evt, out string? reason);
}
