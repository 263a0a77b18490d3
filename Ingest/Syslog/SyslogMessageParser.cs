using System.Buffers;
using System.Text;

namespace AnomalyZT.Ingest.Syslog;

/// <summary>Parses one framed syslog message: RFC 5424, or RFC 3164 with the variants <c>logger</c> and rsyslog emit
/// (no hostname on the local socket, space-padded day, a year or fractional seconds in the timestamp, an RFC 3339
/// timestamp in place of the BSD one, a tag without colon). Never throws on any input; every loop advances through
/// the (bounded) input, so parsing time is linear in its length.</summary>
/// <remarks>RFC 3164 timestamps carry no year and no zone: the zone is <c>rfc3164Offset</c> (UTC by default) and the
/// year is the latest that puts the time no more than 31 days after the reference clock (clock skew and zone
/// mistakes tolerated), so a December message read in January lands in the old year, a January 1st message read on
/// December 31st in the new one, and February 29th in the last leap year.</remarks>
public sealed class SyslogMessageParser
{
    private const int MaxHostName = 255;
    private const int MaxAppName = 48;
    private const int MaxProcId = 128;
    private const int MaxMsgId = 32;
    private const int MaxSdName = 32;
    private const int MaxTag = 128;
    private const long MsPerDay = 86_400_000;
    private const int UnixEpochDayNumber = 719_162;
    private const long FutureToleranceMs = 31 * MsPerDay;

    private static readonly string[] Months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    private static readonly SyslogSdElement[] NoStructuredData = [];

    private readonly TimeProvider _clock;
    private readonly TimeSpan _rfc3164Offset;

    /// <summary>Creates a parser.</summary>
    /// <param name="clock">Reference clock for RFC 3164 year inference and NILVALUE timestamps; system clock when null.</param>
    /// <param name="rfc3164Offset">UTC offset of RFC 3164 timestamps, which carry no zone.</param>
    public SyslogMessageParser(TimeProvider? clock = null, TimeSpan rfc3164Offset = default)
    {
        _clock = clock ?? TimeProvider.System;
        _rfc3164Offset = rfc3164Offset;
    }

    /// <summary>Messages accepted so far.</summary>
    public long Accepted { get; private set; }

    /// <summary>Messages rejected so far.</summary>
    public long Rejected { get; private set; }

    /// <summary>Parses a message that may span several segments.</summary>
    /// <param name="message">The message bytes without framing.</param>
    /// <returns>The record or the rejection reason.</returns>
    public SyslogParseResult Parse(in ReadOnlySequence<byte> message)
    {
        if (message.IsSingleSegment)
        {
            return Parse(message.FirstSpan);
        }

        if (message.Length > Array.MaxLength)
        {
            return Count(SyslogParseResult.Reject("message too large"));
        }

        var rented = ArrayPool<byte>.Shared.Rent((int)message.Length);
        try
        {
            message.CopyTo(rented);
            return Parse(rented.AsSpan(0, (int)message.Length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Parses one message.</summary>
    /// <param name="message">The message bytes without framing.</param>
    /// <returns>The record or the rejection reason.</returns>
    public SyslogParseResult Parse(ReadOnlySpan<byte> message) => Count(ParseCore(message));

    private SyslogParseResult Count(SyslogParseResult result)
    {
        if (result.Accepted)
        {
            Accepted++;
        }
        else
        {
            Rejected++;
        }

        return result;
    }

    private SyslogParseResult ParseCore(ReadOnlySpan<byte> s)
    {
        while (s.Length > 0 && s[^1] is (byte)'\n' or (byte)'\r' or 0)
        {
            s = s[..^1];
        }

        if (s.IsEmpty)
        {
            return SyslogParseResult.Reject("empty message");
        }

        if (s[0] != (byte)'<')
        {
            return SyslogParseResult.Reject("missing PRI: message does not start with '<'");
        }

        var i = 1;
        var pri = 0;
        while (i < s.Length && i <= 3 && IsDigit(s[i]))
        {
            pri = (pri * 10) + (s[i] - '0');
            i++;
        }

        if (i == 1 || i >= s.Length || s[i] != (byte)'>')
        {
            return SyslogParseResult.Reject("invalid PRI: expected '<' 1-3 digits '>'");
        }

        if (pri > 191)
        {
            return SyslogParseResult.Reject($"PRI {pri} out of range 0-191");
        }

        i++;
        var facility = pri >> 3;
        var severity = pri & 7;
        var rest = s[i..];
        if (rest.Length >= 2 && rest[0] == (byte)'1' && rest[1] == (byte)' ')
        {
            return Parse5424(rest[2..], facility, severity);
        }

        if (rest.Length >= 2 && IsDigit(rest[0]) && (rest[1] == (byte)' ' || (rest.Length >= 3 && IsDigit(rest[1]) && rest[2] == (byte)' ')))
        {
            return SyslogParseResult.Reject("unsupported syslog VERSION (only 1 is defined)");
        }

        return Parse3164(rest, facility, severity);
    }

    private SyslogParseResult Parse5424(ReadOnlySpan<byte> s, int facility, int severity)
    {
        var i = 0;
        var ts = NextField(s, ref i);
        if (ts.IsEmpty)
        {
            return SyslogParseResult.Reject("RFC 5424: missing TIMESTAMP");
        }

        long timestampMs;
        if (ts is [(byte)'-'])
        {
            timestampMs = _clock.GetUtcNow().ToUnixTimeMilliseconds();
        }
        else if (!TryParseRfc3339(ts, strict: true, out timestampMs))
        {
            return SyslogParseResult.Reject("RFC 5424: invalid TIMESTAMP");
        }

        if (!TryHeaderField(s, ref i, MaxHostName, out var host)
            || !TryHeaderField(s, ref i, MaxAppName, out var app)
            || !TryHeaderField(s, ref i, MaxProcId, out var procId)
            || !TryHeaderField(s, ref i, MaxMsgId, out var msgId))
        {
            return SyslogParseResult.Reject("RFC 5424: missing or invalid HOSTNAME, APP-NAME, PROCID or MSGID");
        }

        if (i >= s.Length)
        {
            return SyslogParseResult.Reject("RFC 5424: missing STRUCTURED-DATA");
        }

        IReadOnlyList<SyslogSdElement> sd = NoStructuredData;
        if (s[i] == (byte)'-')
        {
            i++;
        }
        else if (s[i] == (byte)'[')
        {
            var error = ParseStructuredData(s, ref i, out var elements);
            if (error is not null)
            {
                return SyslogParseResult.Reject("RFC 5424: " + error);
            }

            sd = elements;
        }
        else
        {
            return SyslogParseResult.Reject("RFC 5424: STRUCTURED-DATA must be '-' or start with '['");
        }

        string message;
        if (i == s.Length)
        {
            message = string.Empty;
        }
        else if (s[i] == (byte)' ')
        {
            message = DecodeMessage(s[(i + 1)..]);
        }
        else
        {
            return SyslogParseResult.Reject("RFC 5424: expected SP after STRUCTURED-DATA");
        }

        return SyslogParseResult.Ok(new SyslogRecord(timestampMs, host, app, procId, msgId, message, facility, severity, SyslogFormat.Rfc5424, sd));
    }

    private static string? ParseStructuredData(ReadOnlySpan<byte> s, ref int i, out List<SyslogSdElement> elements)
    {
        elements = [];
        while (i < s.Length && s[i] == (byte)'[')
        {
            i++;
            var id = ReadSdName(s, ref i);
            if (id is null)
            {
                return "invalid SD-ID";
            }

            var parameters = new List<SyslogSdParam>();
            while (true)
            {
                if (i >= s.Length)
                {
                    return "unterminated SD-ELEMENT";
                }

                if (s[i] == (byte)']')
                {
                    i++;
                    break;
                }

                if (s[i] != (byte)' ')
                {
                    return "invalid character in SD-ELEMENT";
                }

                i++;
                var name = ReadSdName(s, ref i);
                if (name is null)
                {
                    return "invalid PARAM-NAME";
                }

                if (i + 1 >= s.Length || s[i] != (byte)'=' || s[i + 1] != (byte)'"')
                {
                    return "expected '=\"' after PARAM-NAME";
                }

                i += 2;
                var value = ReadParamValue(s, ref i);
                if (value is null)
                {
                    return "unterminated PARAM-VALUE";
                }

                parameters.Add(new SyslogSdParam(name, value));
            }

            elements.Add(new SyslogSdElement(id, parameters));
        }

        return null;
    }

    private static string? ReadSdName(ReadOnlySpan<byte> s, ref int i)
    {
        var start = i;
        while (i < s.Length && i - start < MaxSdName && s[i] is > 32 and < 127 and not (byte)'=' and not (byte)']' and not (byte)'"')
        {
            i++;
        }

        return i == start ? null : Encoding.ASCII.GetString(s[start..i]);
    }

    /// <summary>Reads a PARAM-VALUE after its opening quote, through the closing quote. A backslash before any other
    /// character than <c>"</c>, <c>\</c> or <c>]</c> is kept literally (RFC 5424 §6.3.3).</summary>
    private static string? ReadParamValue(ReadOnlySpan<byte> s, ref int i)
    {
        var start = i;
        var escaped = false;
        while (i < s.Length && s[i] != (byte)'"')
        {
            if (s[i] == (byte)'\\' && i + 1 < s.Length && s[i + 1] is (byte)'"' or (byte)'\\' or (byte)']')
            {
                escaped = true;
                i++;
            }

            i++;
        }

        if (i >= s.Length)
        {
            return null;
        }

        var raw = s[start..i];
        i++;
        if (!escaped)
        {
            return Encoding.UTF8.GetString(raw);
        }

        var buffer = raw.Length <= 512 ? stackalloc byte[raw.Length] : new byte[raw.Length];
        var n = 0;
        for (var j = 0; j < raw.Length; j++)
        {
            if (raw[j] == (byte)'\\' && j + 1 < raw.Length && raw[j + 1] is (byte)'"' or (byte)'\\' or (byte)']')
            {
                j++;
            }

            buffer[n++] = raw[j];
        }

        return Encoding.UTF8.GetString(buffer[..n]);
    }

    private SyslogParseResult Parse3164(ReadOnlySpan<byte> s, int facility, int severity)
    {
        var i = 0;
        long timestampMs;
        if (s.Length >= 4 && IsDigit(s[0]) && IsDigit(s[1]) && IsDigit(s[2]) && IsDigit(s[3]))
        {
            var ts = NextField(s, ref i);
            if (!TryParseRfc3339(ts, strict: false, out timestampMs))
            {
                return SyslogParseResult.Reject("RFC 3164: invalid RFC 3339 timestamp");
            }
        }
        else if (!TryParseBsdTimestamp(s, ref i, out timestampMs))
        {
            return SyslogParseResult.Reject("RFC 3164: invalid TIMESTAMP (expected 'Mmm dd hh:mm:ss')");
        }

        while (i < s.Length && s[i] == (byte)' ')
        {
            i++;
        }

        string? host = null;
        var first = NextToken(s, i);
        if (!first.IsEmpty && !LooksLikeTag(first))
        {
            host = Encoding.UTF8.GetString(first);
            i += first.Length;
            while (i < s.Length && s[i] == (byte)' ')
            {
                i++;
            }
        }

        string? app = null;
        string? procId = null;
        var tagStart = i;
        while (i < s.Length && i - tagStart < MaxTag && s[i] is not ((byte)'[' or (byte)':' or (byte)' '))
        {
            i++;
        }

        if (i - tagStart == MaxTag)
        {
            // Not a tag: the content has none (RFC 3164 §4.1.3 allows that).
            i = tagStart;
        }
        else
        {
            if (i > tagStart)
            {
                app = Encoding.UTF8.GetString(s[tagStart..i]);
            }

            if (i < s.Length && s[i] == (byte)'[')
            {
                var close = s[(i + 1)..].IndexOf((byte)']');
                if (close >= 0 && close <= MaxProcId)
                {
                    procId = close == 0 ? null : Encoding.UTF8.GetString(s.Slice(i + 1, close));
                    i += close + 2;
                }
            }

            if (i < s.Length && s[i] == (byte)':')
            {
                i++;
            }

            if (i < s.Length && s[i] == (byte)' ')
            {
                i++;
            }
        }

        var message = DecodeMessage(s[i..]);
        return SyslogParseResult.Ok(new SyslogRecord(timestampMs, host, app, procId, null, message, facility, severity, SyslogFormat.Rfc3164, NoStructuredData));
    }

    /// <summary>True for <c>tag:</c>, <c>tag[pid]:</c> or <c>tag[pid]</c>: the first token after the timestamp is the
    /// tag, not a hostname (what <c>logger</c> writes to the local socket).</summary>
    private static bool LooksLikeTag(ReadOnlySpan<byte> token) =>
        token[^1] == (byte)':' || (token.IndexOf((byte)'[') > 0 && token.IndexOf((byte)']') > 0);

    private bool TryParseBsdTimestamp(ReadOnlySpan<byte> s, ref int i, out long timestampMs)
    {
        timestampMs = 0;
        if (s.Length < 5 || s[3] != (byte)' ')
        {
            return false;
        }

        var month = -1;
        for (var m = 0; m < 12; m++)
        {
            var name = Months[m];
            if (AsciiEqualsIgnoreCase(s[0], name[0]) && AsciiEqualsIgnoreCase(s[1], name[1]) && AsciiEqualsIgnoreCase(s[2], name[2]))
            {
                month = m + 1;
                break;
            }
        }

        if (month < 0)
        {
            return false;
        }

        i = 4;
        if (s[i] == (byte)' ')
        {
            i++;
        }

        if (!TryDigits(s, ref i, 1, 2, out var day) || !Expect(s, ref i, ' '))
        {
            return false;
        }

        var year = -1;
        if (i + 4 < s.Length && IsDigit(s[i]) && IsDigit(s[i + 1]) && IsDigit(s[i + 2]) && IsDigit(s[i + 3]) && s[i + 4] == (byte)' ')
        {
            TryDigits(s, ref i, 4, 4, out year);
            i++;
        }

        if (!TryDigits(s, ref i, 2, 2, out var hour) || !Expect(s, ref i, ':')
            || !TryDigits(s, ref i, 2, 2, out var minute) || !Expect(s, ref i, ':')
            || !TryDigits(s, ref i, 2, 2, out var second)
            || hour > 23 || minute > 59 || second > 60)
        {
            return false;
        }

        var fractionMs = 0;
        if (i < s.Length && s[i] == (byte)'.')
        {
            i++;
            if (!TryFraction(s, ref i, 9, out fractionMs))
            {
                return false;
            }
        }

        if (i < s.Length && s[i] != (byte)' ')
        {
            return false;
        }

        var timeOfDayMs = (((((hour * 60L) + minute) * 60) + Math.Min(second, 59)) * 1000) + fractionMs;
        var offsetMs = (long)_rfc3164Offset.TotalMilliseconds;
        if (year >= 0)
        {
            return TryUnixDay(year, month, day, out var d) && Finish(d, timeOfDayMs, offsetMs, out timestampMs);
        }

        var reference = _clock.GetUtcNow().ToUnixTimeMilliseconds();
        var referenceYear = DateTimeOffset.FromUnixTimeMilliseconds(Math.Clamp(reference + offsetMs, 0, 253_402_300_799_000)).Year;
        var found = false;
        for (var y = referenceYear + 1; y >= referenceYear - 4 && !found; y--)
        {
            if (TryUnixDay(y, month, day, out var d))
            {
                timestampMs = (d * MsPerDay) + timeOfDayMs - offsetMs;
                found = timestampMs <= reference + FutureToleranceMs;
            }
        }

        return found;
    }

    private static bool Finish(long unixDay, long timeOfDayMs, long offsetMs, out long timestampMs)
    {
        timestampMs = (unixDay * MsPerDay) + timeOfDayMs - offsetMs;
        return true;
    }

    /// <summary>RFC 3339 / RFC 5424 §6.2.3 <c>FULL-DATE "T" FULL-TIME</c>. Strict (RFC 5424): upper-case T and Z, at
    /// most 6 fraction digits, an offset required. Lenient (in RFC 3164 headers): case-insensitive, up to 9 digits.</summary>
    private static bool TryParseRfc3339(ReadOnlySpan<byte> s, bool strict, out long timestampMs)
    {
        timestampMs = 0;
        var i = 0;
        if (!TryDigits(s, ref i, 4, 4, out var year) || !Expect(s, ref i, '-')
            || !TryDigits(s, ref i, 2, 2, out var month) || !Expect(s, ref i, '-')
            || !TryDigits(s, ref i, 2, 2, out var day))
        {
            return false;
        }

        if (i >= s.Length || !(s[i] == (byte)'T' || (!strict && s[i] == (byte)'t')))
        {
            return false;
        }

        i++;
        if (!TryDigits(s, ref i, 2, 2, out var hour) || !Expect(s, ref i, ':')
            || !TryDigits(s, ref i, 2, 2, out var minute) || !Expect(s, ref i, ':')
            || !TryDigits(s, ref i, 2, 2, out var second)
            || hour > 23 || minute > 59 || second > 59)
        {
            return false;
        }

        var fractionMs = 0;
        if (i < s.Length && s[i] == (byte)'.')
        {
            i++;
            if (!TryFraction(s, ref i, strict ? 6 : 9, out fractionMs))
            {
                return false;
            }
        }

        if (i >= s.Length)
        {
            return false;
        }

        long offsetMs = 0;
        if (s[i] == (byte)'Z' || (!strict && s[i] == (byte)'z'))
        {
            i++;
        }
        else if (s[i] is (byte)'+' or (byte)'-')
        {
            var sign = s[i] == (byte)'-' ? -1 : 1;
            i++;
            if (!TryDigits(s, ref i, 2, 2, out var offHour) || !Expect(s, ref i, ':') || !TryDigits(s, ref i, 2, 2, out var offMinute)
                || offHour > 23 || offMinute > 59)
            {
                return false;
            }

            offsetMs = sign * ((offHour * 60L) + offMinute) * 60_000;
        }
        else
        {
            return false;
        }

        if (i != s.Length || !TryUnixDay(year, month, day, out var unixDay))
        {
            return false;
        }

        var timeOfDayMs = (((((hour * 60L) + minute) * 60) + second) * 1000) + fractionMs;
        return Finish(unixDay, timeOfDayMs, offsetMs, out timestampMs);
    }

    private static bool TryUnixDay(int year, int month, int day, out long unixDay)
    {
        unixDay = 0;
        if (year is < 1 or > 9999 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month))
        {
            return false;
        }

        unixDay = new DateOnly(year, month, day).DayNumber - UnixEpochDayNumber;
        return true;
    }

    private static bool TryFraction(ReadOnlySpan<byte> s, ref int i, int maxDigits, out int fractionMs)
    {
        fractionMs = 0;
        var digits = 0;
        var scale = 100;
        while (i < s.Length && IsDigit(s[i]))
        {
            if (++digits > maxDigits)
            {
                return false;
            }

            fractionMs += (s[i] - '0') * scale;
            scale /= 10;
            i++;
        }

        return digits > 0;
    }

    private static bool TryDigits(ReadOnlySpan<byte> s, ref int i, int min, int max, out int value)
    {
        value = 0;
        var start = i;
        while (i < s.Length && i - start < max && IsDigit(s[i]))
        {
            value = (value * 10) + (s[i] - '0');
            i++;
        }

        return i - start >= min;
    }

    private static bool Expect(ReadOnlySpan<byte> s, ref int i, char c)
    {
        if (i < s.Length && s[i] == (byte)c)
        {
            i++;
            return true;
        }

        return false;
    }

    /// <summary>The bytes from <paramref name="i"/> to the next SP; <paramref name="i"/> moves past that SP.</summary>
    private static ReadOnlySpan<byte> NextField(ReadOnlySpan<byte> s, ref int i)
    {
        var token = NextToken(s, i);
        i += token.Length;
        if (i < s.Length)
        {
            i++;
        }

        return token;
    }

    private static ReadOnlySpan<byte> NextToken(ReadOnlySpan<byte> s, int i)
    {
        var rest = s[i..];
        var sp = rest.IndexOf((byte)' ');
        return sp < 0 ? rest : rest[..sp];
    }

    /// <summary>One RFC 5424 header field (1*N PRINTUSASCII, or NILVALUE as null) followed by SP.</summary>
    private static bool TryHeaderField(ReadOnlySpan<byte> s, ref int i, int maxLength, out string? value)
    {
        value = null;
        var token = NextToken(s, i);
        if (token.IsEmpty || token.Length > maxLength || i + token.Length >= s.Length)
        {
            return false;
        }

        foreach (var b in token)
        {
            if (b is < 33 or > 126)
            {
                return false;
            }
        }

        i += token.Length + 1;
        value = token is [(byte)'-'] ? null : Encoding.ASCII.GetString(token);
        return true;
    }

    private static string DecodeMessage(ReadOnlySpan<byte> msg)
    {
        if (msg.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            msg = msg[3..];
        }

        return msg.IsEmpty ? string.Empty : Encoding.UTF8.GetString(msg);
    }

    private static bool AsciiEqualsIgnoreCase(byte b, char c) => (b | 0x20) == (c | 0x20);

    private static bool IsDigit(byte b) => (uint)(b - '0') <= 9;
}
