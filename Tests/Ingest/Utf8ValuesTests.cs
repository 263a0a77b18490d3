using System.Text;
using AnomalyZT.Ingest.Parsing;

namespace AnomalyZT.Tests.Ingest;

public sealed class Utf8ValuesTests
{
    [Theory]
    [InlineData("2024-05-01T10:00:00Z", 1714557600000L)]
    [InlineData("2024-05-01T10:00:00.123Z", 1714557600123L)]
    [InlineData("2024-05-01T10:00:00.1Z", 1714557600100L)]
    [InlineData("2024-05-01T10:00:00.123456789Z", 1714557600123L)]
    [InlineData("2024-05-01T12:00:00.5+02:00", 1714557600500L)]
    [InlineData("2024-05-01T05:30:00-04:30", 1714557600000L)]
    [InlineData("2024-05-01t10:00:00z", 1714557600000L)]
    [InlineData("2024-05-01 10:00:00+0000", 1714557600000L)]
    [InlineData("1970-01-01T00:00:00Z", 0L)]
    [InlineData("2000-02-29T23:59:59.999Z", 951868799999L)]
    [InlineData("1969-12-31T23:59:59Z", -1000L)]
    public void TryParseRfc3339_ValidTimestamp_ReturnsUnixMs(string text, long expected)
    {
        Assert.True(Utf8Values.TryParseRfc3339(Encoding.UTF8.GetBytes(text), out var ms));
        Assert.Equal(expected, ms);
        Assert.Equal(expected, DateTimeOffset.Parse(text.Replace('t', 'T').Replace('z', 'Z'), System.Globalization.CultureInfo.InvariantCulture).ToUnixTimeMilliseconds());
    }

    [Theory]
    [InlineData("2024-05-01T10:00:00")]
    [InlineData("2024-05-01")]
    [InlineData("2024-13-01T10:00:00Z")]
    [InlineData("2023-02-29T10:00:00Z")]
    [InlineData("2024-05-01T24:00:00Z")]
    [InlineData("2024-05-01T10:00:00.Z")]
    [InlineData("2024-05-01T10:00:00+25:00")]
    [InlineData("2024-05-01T10:00:00Zjunk")]
    [InlineData("2024/05/01T10:00:00Z")]
    [InlineData("0000-01-01T00:00:00Z")]
    public void TryParseRfc3339_Invalid_ReturnsFalse(string text)
    {
        Assert.False(Utf8Values.TryParseRfc3339(Encoding.UTF8.GetBytes(text), out _));
    }

    [Theory]
    [InlineData("1714557600", 1714557600000L)]
    [InlineData("1714557600.123", 1714557600123L)]
    [InlineData("1591367999.305988", 1591367999306L)]
    [InlineData("1714557600123", 1714557600123L)]
    [InlineData("2024-05-01T10:00:00Z", 1714557600000L)]
    public void TryParseTimestamp_EpochOrRfc3339_ReturnsUnixMs(string text, long expected)
    {
        Assert.True(Utf8Values.TryParseTimestamp(Encoding.UTF8.GetBytes(text), out var ms));
        Assert.Equal(expected, ms);
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(1e300)]
    public void TryEpochToMs_NotARealTime_ReturnsFalse(double epoch)
    {
        Assert.False(Utf8Values.TryEpochToMs(epoch, out _));
    }

    [Theory]
    [InlineData("42", 42L)]
    [InlineData(" 7 ", 7L)]
    [InlineData("1e3", 1000L)]
    [InlineData("-5", -5L)]
    public void TryParseInt64_Integral_ReturnsValue(string text, long expected)
    {
        Assert.True(Utf8Values.TryParseInt64(Encoding.UTF8.GetBytes(text), out var value));
        Assert.Equal(expected, value);
    }

    [Theory]
    [InlineData("1.5")]
    [InlineData("12abc")]
    [InlineData("")]
    [InlineData("-")]
    public void TryParseInt64_NotAnInteger_ReturnsFalse(string text)
    {
        Assert.False(Utf8Values.TryParseInt64(Encoding.UTF8.GetBytes(text), out _));
    }
}
