namespace AnomalyZT.Silo.Response.Connectors;

/// <summary>Keeps credentials out of a <see cref="DeliveryResult.Detail"/>: a provider may echo what it was sent.</summary>
internal static class SecretScrubber
{
    /// <summary>Shortest secret that is masked; shorter values would mask ordinary words.</summary>
    private const int MinLength = 4;

    /// <summary><paramref name="detail"/> with every occurrence of each of <paramref name="secrets"/> replaced by
    /// <c>***</c>, as sent and percent-encoded.</summary>
    public static string Scrub(string detail, params ReadOnlySpan<string?> secrets)
    {
        foreach (var secret in secrets)
        {
            if (secret is not { Length: >= MinLength })
            {
                continue;
            }

            detail = detail.Replace(secret, "***", StringComparison.Ordinal);
            var escaped = Uri.EscapeDataString(secret);
            if (!string.Equals(escaped, secret, StringComparison.Ordinal))
            {
                detail = detail.Replace(escaped, "***", StringComparison.OrdinalIgnoreCase);
            }
        }

        return detail;
    }

    /// <summary><paramref name="result"/> with its detail scrubbed of <paramref name="secrets"/>.</summary>
    public static DeliveryResult Scrub(DeliveryResult result, params ReadOnlySpan<string?> secrets) =>
        result with { Detail = Scrub(result.Detail, secrets) };
}
