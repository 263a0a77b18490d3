using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace AnomalyZT.Silo.State;

/// <summary>The opaque paging position of a findings query: base64url of <c>bucketStartMs:id</c>, the last
/// item of the previous page.</summary>
internal static class FindingCursor
{
    /// <summary>Longest cursor accepted; real ones are about 60 characters.</summary>
    internal const int MaxLength = 1_024;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The cursor that resumes after the finding at (<paramref name="bucketStartMs"/>, <paramref name="id"/>).</summary>
    internal static string Encode(long bucketStartMs, string id) =>
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes(
            string.Create(CultureInfo.InvariantCulture, $"{bucketStartMs}:{id}")));

    /// <summary>Decodes a cursor this store issued.</summary>
    /// <exception cref="ArgumentException">The text is not such a cursor; the message says why.</exception>
    internal static (long BucketStartMs, string Id) Decode(string cursor, string paramName)
    {
        if (cursor.Length is 0 or > MaxLength)
        {
            throw Bad(paramName, FormattableString.Invariant($"it is {cursor.Length} characters long, expected 1 to {MaxLength}"));
        }

        string text;
        try
        {
            text = StrictUtf8.GetString(Base64Url.DecodeFromChars(cursor));
        }
        catch (FormatException)
        {
            throw Bad(paramName, "it is not base64url text");
        }
        catch (DecoderFallbackException)
        {
            throw Bad(paramName, "it does not decode to UTF-8 text");
        }

        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || colon == text.Length - 1)
        {
            throw Bad(paramName, "it does not hold a bucket start and a finding id");
        }

        if (!long.TryParse(text.AsSpan(0, colon), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var bucketStartMs))
        {
            throw Bad(paramName, "its bucket start is not a whole number of milliseconds");
        }

        return (bucketStartMs, text[(colon + 1)..]);
    }

    // The cursor itself is not echoed: it is caller input and may be long.
    private static ArgumentException Bad(string paramName, string reason) =>
        new($"Cursor is not valid: {reason}. Pass the NextCursor of a previous page unchanged, or no cursor for the first page.", paramName);
}
