using System.Buffers.Text;
using System.Globalization;

namespace AnomalyZT.Ingest.Parsing;

/// <summary>Allocation-free parsers for timestamps and numbers written as UTF-8.</summary>
internal static class Utf8Values
{
    /// <summary>Epoch values above this are milliseconds, below it seconds (1e11 s is the year 5138; 1e11 ms is 1973).</summary>
    private const double MillisecondThreshold = 1e11;

    /// <summary>9999-12-31T23:59:59.999Z; anything later is a unit mistake, not a time.</summary>
    private const long MaxUnixMs = 253_402_300_799_999;

    /// <summary>0001-01-01T00:00:00Z.</summary>
    private const long MinUnixMs = -62_135_596_800_000;

    /// <summary>Parses RFC 3339 (<c>2024-05-01T10:00:00.123456Z</c>, <c>…+02:00</c>) or an epoch number in seconds or milliseconds.</summary>
    public static bool TryParseTimestamp(ReadOnlySpan<byte> text, out long unixMs)
    {
        text = TextRanges.Trim(text);
        if (TryParseRfc3339(text, out unixMs))
        {
            return true;
        }

        return TryParseDouble(text, out var epoch) && TryEpochToMs(epoch, out unixMs);
    }

    /// <summary>Converts an epoch number to Unix milliseconds: seconds (fractions allowed) below 1e11, milliseconds above.</summary>
    public static bool TryEpochToMs(double epoch, out long unixMs)
    {
        unixMs = 0;
        if (!double.IsFinite(epoch))
        {
            return false;
        }

        var ms = Math.Abs(epoch) > MillisecondThreshold ? Math.Round(epoch) : Math.Round(epoch * 1000.0);
        if (ms is < MinUnixMs or > MaxUnixMs)
        {
            return false;
        }

        unixMs = (long)ms;
        return true;
    }

    /// <summary>RFC 3339 date-time: <c>YYYY-MM-DD</c>, <c>T</c> (or <c>t</c> or a space), <c>hh:mm:ss</c>, optional fraction
    /// of any length (truncated to milliseconds), then <c>Z</c> or <c>±hh:mm</c> (<c>±hhmm</c> also accepted).</summary>
    public static bool TryParseRfc3339(ReadOnlySpan<byte> s, out long unixMs)
    {
        unixMs = 0;
        if (s.Length < 20
            || !TryDigits(s, 0, 4, out var year) || s[4] != (byte)'-'
            || !TryDigits(s, 5, 2, out var month) || s[7] != (byte)'-'
            || !TryDigits(s, 8, 2, out var day)
            || s[10] is not ((byte)'T' or (byte)'t' or (byte)' ')
            || !TryDigits(s, 11, 2, out var hour) || s[13] != (byte)':'
            || !TryDigits(s, 14, 2, out var minute) || s[16] != (byte)':'
            || !TryDigits(s, 17, 2, out var second))
        {
            return false;
        }

        var i = 19;
        var fractionMs = 0;
        if (s[i] == (byte)'.')
        {
            var first = ++i;
            var scale = 100;
            while (i < s.Length && IsDigit(s[i]))
            {
                fractionMs += (s[i] - '0') * scale;
                scale /= 10;
                i++;
            }

            if (i == first)
            {
                return false;
            }
        }

        if (!TryOffset(s[i..], out var offsetMinutes)
            || year < 1 || month is < 1 or > 12 || day < 1 || day > DaysInMonth(year, month)
            || hour > 23 || minute > 59 || second > 60)
        {
            return false;
        }

        // A leap second (:60) lands on the first millisecond of the next minute.
        var days = DaysFromCivil(year, month, day);
        var minutes = (((days * 24) + hour) * 60) + minute - offsetMinutes;
        unixMs = (((minutes * 60) + second) * 1000) + fractionMs;
        return true;
    }

    /// <summary>Whole-span integer (optional sign); decimals and exponents are accepted when integral-valued.</summary>
    public static bool TryParseInt64(ReadOnlySpan<byte> text, out long value)
    {
        text = TextRanges.Trim(text);
        if (Utf8Parser.TryParse(text, out value, out var consumed) && consumed == text.Length)
        {
            return true;
        }

        if (TryParseDouble(text, out var d) && d == Math.Floor(d) && d >= long.MinValue && d < long.MaxValue)
        {
            value = (long)d;
            return true;
        }

        value = 0;
        return false;
    }

    /// <summary>Whole-span invariant floating-point number.</summary>
    public static bool TryParseDouble(ReadOnlySpan<byte> text, out double value)
    {
        text = TextRanges.Trim(text);
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
    }

    private static bool TryOffset(ReadOnlySpan<byte> s, out int minutes)
    {
        minutes = 0;
        if (s.Length == 1 && s[0] is (byte)'Z' or (byte)'z')
        {
            return true;
        }

        if (s.IsEmpty || s[0] is not ((byte)'+' or (byte)'-'))
        {
            return false;
        }

        int hours, mins;
        if (s.Length == 6 && s[3] == (byte)':')
        {
            if (!TryDigits(s, 1, 2, out hours) || !TryDigits(s, 4, 2, out mins))
            {
                return false;
            }
        }
        else if (s.Length != 5 || !TryDigits(s, 1, 2, out hours) || !TryDigits(s, 3, 2, out mins))
        {
            return false;
        }

        if (hours > 23 || mins > 59)
        {
            return false;
        }

        minutes = (s[0] == (byte)'-' ? -1 : 1) * ((hours * 60) + mins);
        return true;
    }

    private static bool TryDigits(ReadOnlySpan<byte> s, int start, int count, out int value)
    {
        value = 0;
        if (start + count > s.Length)
        {
            return false;
        }

        for (var i = start; i < start + count; i++)
        {
            if (!IsDigit(s[i]))
            {
                return false;
            }

            value = (value * 10) + (s[i] - '0');
        }

        return true;
    }

    private static bool IsDigit(byte b) => b is >= (byte)'0' and <= (byte)'9';

    private static int DaysInMonth(int year, int month) => month switch
    {
        2 => (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 29 : 28,
        4 or 6 or 9 or 11 => 30,
        _ => 31,
    };

    // Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
    private static long DaysFromCivil(int year, int month, int day)
    {
        long y = month <= 2 ? year - 1 : year;
        var era = (y >= 0 ? y : y - 399) / 400;
        var yoe = y - (era * 400);
        var doy = ((153 * (month > 2 ? month - 3 : month + 9)) + 2) / 5 + day - 1;
        var doe = (yoe * 365) + (yoe / 4) - (yoe / 100) + doy;
        return (era * 146097) + doe - 719468;
    }
}
