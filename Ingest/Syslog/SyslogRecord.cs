namespace AnomalyZT.Ingest.Syslog;

/// <summary>Which syslog header a message carried.</summary>
public enum SyslogFormat : byte
{
    /// <summary>BSD syslog, RFC 3164 (<c>&lt;PRI&gt;Mmm dd hh:mm:ss host tag[pid]: msg</c>) and its common variants.</summary>
    Rfc3164 = 1,

    /// <summary>The syslog protocol, RFC 5424 (<c>&lt;PRI&gt;1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD MSG</c>).</summary>
    Rfc5424 = 2,
}

/// <summary>One SD-PARAM of an RFC 5424 SD-ELEMENT.</summary>
/// <param name="Name">PARAM-NAME.</param>
/// <param name="Value">PARAM-VALUE with the <c>\"</c>, <c>\\</c> and <c>\]</c> escapes resolved.</param>
public readonly record struct SyslogSdParam(string Name, string Value);

/// <summary>One RFC 5424 SD-ELEMENT.</summary>
/// <param name="Id">SD-ID (e.g. <c>timeQuality</c>, <c>exampleSDID@32473</c>).</param>
/// <param name="Params">Its parameters, in order.</param>
public sealed record SyslogSdElement(string Id, IReadOnlyList<SyslogSdParam> Params);

/// <summary>A parsed syslog message.</summary>
/// <param name="TimestampMs">Event time, Unix milliseconds UTC (the reference clock when the sender sent none).</param>
/// <param name="Host">HOSTNAME, or null when NILVALUE or absent.</param>
/// <param name="App">APP-NAME (RFC 5424) or the tag without its <c>[pid]</c> (RFC 3164), or null.</param>
/// <param name="ProcId">PROCID or the tag's <c>[pid]</c>, or null.</param>
/// <param name="MsgId">MSGID (RFC 5424 only), or null.</param>
/// <param name="Message">MSG decoded as UTF-8 (invalid sequences replaced, a leading BOM removed, trailing CR/LF
/// trimmed).</param>
/// <param name="Facility">Facility, PRI / 8 (0–23).</param>
/// <param name="Severity">Severity, PRI % 8 (0 emergency … 7 debug).</param>
/// <param name="Format">Which header format was parsed.</param>
/// <param name="StructuredData">RFC 5424 STRUCTURED-DATA elements; empty otherwise.</param>
public sealed record SyslogRecord(
    long TimestampMs,
    string? Host,
    string? App,
    string? ProcId,
    string? MsgId,
    string Message,
    int Facility,
    int Severity,
    SyslogFormat Format,
    IReadOnlyList<SyslogSdElement> StructuredData);

/// <summary>Result of <see cref="SyslogMessageParser.Parse(ReadOnlySpan{byte})"/>: a record or a rejection reason.</summary>
public readonly struct SyslogParseResult
{
    private SyslogParseResult(SyslogRecord? record, string? reason)
    {
        Record = record;
        Reason = reason;
    }

    /// <summary>True when <see cref="Record"/> is set.</summary>
    public bool Accepted => Record is not null;

    /// <summary>The parsed message, when accepted.</summary>
    public SyslogRecord? Record { get; }

    /// <summary>Why the message was rejected, when not accepted.</summary>
    public string? Reason { get; }

    /// <summary>An accepted message.</summary>
    public static SyslogParseResult Ok(SyslogRecord record) => new(record, null);

    /// <summary>A rejected message.</summary>
    public static SyslogParseResult Reject(string reason) => new(null, reason);
}
