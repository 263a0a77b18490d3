namespace AnomalyZT.Silo.Response.Connectors;

/// <summary>Keeps credentials out of a <see cref="DeliveryResult.Detail"/>: a provider may echo what it was sent.</summary>
internal static class SecretScrubber
{
    /// <summary>Shortest secret that <see cref="Scrub(string, ReadOnlySpan{string?})"/> masks; shorter values would mask
    /// ordinary words.</summary>
    public const int MinLength = 4;

    /// <summary><paramref name="detail"/> with every occurrence of each of <paramref name="secrets"/> of at least
    /// <see cref="MinLength"/> characters replaced by <c>***</c>, as sent and percent-encoded.</summary>
    public static string Scrub(string detail, params ReadOnlySpan<string?> secrets) => Scrub(detail, MinLength, secrets);

    /// <summary><paramref name="text"/> with every occurrence of each of <paramref name="secrets"/> of at least
    /// <paramref name="minLength"/> characters replaced by <c>***</c>, as sent and percent-encoded.</summary>
    public static string Scrub(string text, int minLength, ReadOnlySpan<string?> secrets)
    {
        foreach (var secret in secrets)
        {
            if (string.IsNullOrEmpty(secret) || secret.Length < minLength)
            {
                continue;
            }

            text = text.Replace(secret, "***", StringComparison.Ordinal);
            var escaped = Uri.EscapeDataString(secret);
            if (!string.Equals(escaped, secret, StringComparison.Ordinal))
            {
                text = text.Replace(escaped, "***", StringComparison.OrdinalIgnoreCase);
            }
        }

        return text;
    }

    /// <summary><paramref name="result"/> with its detail scrubbed of <paramref name="secrets"/>.</summary>
    public static DeliveryResult Scrub(DeliveryResult result, params ReadOnlySpan<string?> secrets) =>
        result with { Detail = Scrub(result.Detail, secrets) };
}
