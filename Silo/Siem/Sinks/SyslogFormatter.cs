using System.Globalization;
using System.Text;

namespace AnomalyZT.Silo.Siem.Sinks;

/// <summary>Formats records as RFC 5424 syslog messages:
/// <c>&lt;PRI&gt;1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID - MSG</c>.</summary>
/// <remarks>
/// <list type="bullet">
/// <item>PRI is <c>facility × 8 + severity</c>; the severity is the record's, clamped to 0–7.</item>
/// <item>TIMESTAMP is the record's time in UTC with microseconds and <c>Z</c> (RFC 3339, e.g.
/// <c>2026-11-20T09:15:00.123000Z</c>).</item>
/// <item>HOSTNAME, APP-NAME (<c>anomalyzt</c>), PROCID and MSGID are printable US-ASCII (33–126) of at most 255, 48,
/// 128 and 32 characters (RFC 5424 §6): any other character becomes <c>_</c> and longer values are cut. An empty value
/// is the NILVALUE <c>-</c>.</item>
/// <item>STRUCTURED-DATA is the NILVALUE <c>-</c>.</item>
/// <item>MSG is the payload as is (UTF-8, one line), after a UTF-8 byte order mark when <see cref="ByteOrderMark"/> is
/// on, as RFC 5424 §6.4 asks for UTF-8 messages. Receivers differ in what they do with the mark: rsyslog keeps it as
/// the first three bytes of <c>%msg%</c> (rsyslog issue #284), so a collector that expects MSG to start with
/// <c>CEF:</c> needs it off. An empty payload sends no MSG (and no mark).</item>
/// </list>
/// </remarks>
public sealed class SyslogFormatter
{
    /// <summary>The APP-NAME of every message.</summary>
    public const string AppName = "anomalyzt";

    /// <summary>RFC 5424 limit of HOSTNAME.</summary>
    public const int MaxHostnameLength = 255;

    /// <summary>RFC 5424 limit of PROCID.</summary>
    public const int MaxProcIdLength = 128;

    /// <summary>RFC 5424 limit of MSGID.</summary>
    public const int MaxMsgIdLength = 32;

    /// <summary>No header (with the byte order mark) is longer than this.</summary>
    public const int MaxHeaderBytes = 512;

    private const string TimestampFormat = "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'ffffff'Z'";

    private static readonly byte[] Bom = [0xEF, 0xBB, 0xBF];

    /// <summary>" HOSTNAME APP-NAME PROCID ", precomputed.</summary>
    private readonly byte[] _middle;

    /// <summary>Formats with <paramref name="facility"/> (0–23), <paramref name="hostname"/> (empty or null for the
    /// machine name), a byte order mark before MSG when <paramref name="byteOrderMark"/>, and this process's id as PROCID
    /// when <paramref name="includeProcessId"/> (else <c>-</c>).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="facility"/> is not 0–23.</exception>
    public SyslogFormatter(int facility, string? hostname = null, bool byteOrderMark = true, bool includeProcessId = true)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(facility);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(facility, 23);
        Facility = facility;
        ByteOrderMark = byteOrderMark;
        Hostname = Sanitize(string.IsNullOrEmpty(hostname) ? Environment.MachineName : hostname, MaxHostnameLength);
        ProcId = includeProcessId ? Environment.ProcessId.ToString(CultureInfo.InvariantCulture) : "-";
        _middle = Encoding.ASCII.GetBytes(" " + Hostname + " " + AppName + " " + ProcId + " ");
    }

    /// <summary>The facility, 0–23.</summary>
    public int Facility { get; }

    /// <summary>Whether MSG starts with a UTF-8 byte order mark.</summary>
    public bool ByteOrderMark { get; }

    /// <summary>The HOSTNAME field as sent (sanitized; <c>-</c> when empty).</summary>
    public string Hostname { get; }

    /// <summary>The PROCID field as sent.</summary>
    public string ProcId { get; }

    /// <summary>The PRI value of a record of <paramref name="severity"/>.</summary>
    public int Priority(int severity) => (Facility * 8) + Math.Clamp(severity, 0, 7);

    /// <summary>Writes the message's bytes before the payload (the header, the NIL structured data, and when the
    /// payload is not empty the space and the byte order mark) to <paramref name="destination"/>, which must hold
    /// <see cref="MaxHeaderBytes"/>; returns the count written.</summary>
    public int WriteHeader(EncodedRecord record, Span<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (destination.Length < MaxHeaderBytes)
        {
            throw new ArgumentException($"the destination must hold {MaxHeaderBytes} bytes", nameof(destination));
        }

        var at = 0;
        destination[at++] = (byte)'<';
        Priority(record.SyslogSeverity).TryFormat(destination[at..], out var n, default, CultureInfo.InvariantCulture);
        at += n;
        destination[at++] = (byte)'>';
        destination[at++] = (byte)'1';
        destination[at++] = (byte)' ';
        record.Time.UtcDateTime.TryFormat(destination[at..], out n, TimestampFormat, CultureInfo.InvariantCulture);
        at += n;
        _middle.CopyTo(destination[at..]);
        at += _middle.Length;
        at += WriteField(record.MessageId, MaxMsgIdLength, destination[at..]);
        destination[at++] = (byte)' ';
        destination[at++] = (byte)'-';
        if (!record.Payload.IsEmpty)
        {
            destination[at++] = (byte)' ';
            if (ByteOrderMark)
            {
                Bom.CopyTo(destination[at..]);
                at += Bom.Length;
            }
        }

        return at;
    }

    /// <summary>The whole message (header and payload) of <paramref name="record"/>.</summary>
    public byte[] Format(EncodedRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        Span<byte> header = stackalloc byte[MaxHeaderBytes];
        var length = WriteHeader(record, header);
        var message = new byte[length + record.Payload.Length];
        header[..length].CopyTo(message);
        record.Payload.Span.CopyTo(message.AsSpan(length));
        return message;
    }

    /// <summary><paramref name="value"/> as an RFC 5424 header field: printable US-ASCII (others become <c>_</c>),
    /// at most <paramref name="maxLength"/> characters, <c>-</c> when empty.</summary>
    public static string Sanitize(string? value, int maxLength)
    {
        if (string.IsNullOrEmpty(value))
        {
            return "-";
        }

        var chars = new char[Math.Min(value.Length, maxLength)];
        for (var i = 0; i < chars.Length; i++)
        {
            chars[i] = value[i] is >= '!' and <= '~' ? value[i] : '_';
        }

        return new string(chars);
    }

    private static int WriteField(string? value, int maxLength, Span<byte> destination)
    {
        if (string.IsNullOrEmpty(value))
        {
            destination[0] = (byte)'-';
            return 1;
        }

        var length = Math.Min(value.Length, maxLength);
        for (var i = 0; i < length; i++)
        {
            destination[i] = value[i] is >= '!' and <= '~' ? (byte)value[i] : (byte)'_';
        }

        return length;
    }
}
