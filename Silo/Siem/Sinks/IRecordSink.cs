namespace AnomalyZT.Silo.Siem.Sinks;

/// <summary>One record, encoded for a sink.</summary>
/// <param name="Seq">Position in the record stream (the sink's cursor moves past it once delivered).</param>
/// <param name="Id">Deterministic record id (receivers dedupe on it).</param>
/// <param name="Time">When the record's event happened.</param>
/// <param name="SyslogSeverity">RFC 5424 severity 0 (emergency) … 7 (debug), for the PRI of syslog sinks.</param>
/// <param name="MessageId">RFC 5424 MSGID (e.g. <c>finding</c>, <c>action</c>, <c>risk</c>), 1–32 printable ASCII.</param>
/// <param name="Payload">The encoded record (CEF, LEEF, JSON…), UTF-8, one line (no CR/LF).</param>
public sealed record EncodedRecord(long Seq, string Id, DateTimeOffset Time, int SyslogSeverity, string MessageId, ReadOnlyMemory<byte> Payload);

/// <summary>How a send went.</summary>
/// <param name="Delivered">How many records of the batch, from its start, are delivered (the cursor moves past them).</param>
/// <param name="Error">Why the rest were not, or null when all were.</param>
public readonly record struct SinkResult(int Delivered, string? Error);

/// <summary>A destination for records: syslog (TCP, TLS, UDP), Splunk HEC, a webhook, a file.</summary>
/// <remarks>Sinks are used by one delivery loop at a time. A sink must not throw for a destination's failure (return
/// it in <see cref="SinkResult.Error"/>); it may keep a connection open between sends and must reconnect after a
/// failure. Delivery is at least once: the loop re-sends what was not confirmed.</remarks>
public interface IRecordSink : IAsyncDisposable
{
    /// <summary>The configured name.</summary>
    string Name { get; }

    /// <summary>Sends records in order; returns how many were delivered.</summary>
    Task<SinkResult> SendAsync(IReadOnlyList<EncodedRecord> batch, CancellationToken ct);
}
