using Microsoft.Extensions.Options;

namespace AnomalyZT.Silo.Scrape;

/// <summary>Prometheus scraping of NVIDIA dcgm-exporter <c>/metrics</c> endpoints. Bound from the <c>Scrape</c> section;
/// with no targets the scraper idles.</summary>
public sealed class ScrapeOptions
{
    /// <summary>Configuration section the options bind from.</summary>
    public const string SectionName = "Scrape";

    /// <summary>Absolute http(s) URLs to GET, e.g. <c>http://gpu-node-1:9400/metrics</c>.</summary>
    public List<string> Targets { get; set; } = [];

    /// <summary>Time between scrapes of every target (default 15 s).</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Longest one GET may take (default 10 s).</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Largest response body read, in bytes (default 16 MiB); larger ones fail the scrape.</summary>
    public int MaxResponseBytes { get; set; } = 16 * 1024 * 1024;
}

/// <summary>Checks <see cref="ScrapeOptions"/> at start, naming the key, the value and what is allowed.</summary>
internal sealed class ScrapeOptionsValidator : IValidateOptions<ScrapeOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, ScrapeOptions options)
    {
        var failure = Check(options);
        return failure is null ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failure);
    }

    /// <summary>The first problem with <paramref name="options"/>, or null when they are usable.</summary>
    internal static string? Check(ScrapeOptions options)
    {
        const string Prefix = ScrapeOptions.SectionName + ":";
        for (var i = 0; i < options.Targets.Count; i++)
        {
            var target = options.Targets[i];
            if (!Uri.TryCreate(target, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                return $"{Prefix}{nameof(options.Targets)}:{i} is '{target}'; it must be an absolute http(s) URL, e.g. 'http://gpu-node-1:9400/metrics'.";
            }
        }

        if (options.Interval < TimeSpan.FromMilliseconds(10) || options.Interval > TimeSpan.FromHours(1))
        {
            return $"{Prefix}{nameof(options.Interval)} is '{options.Interval}'; it must be between 00:00:00.010 and 01:00:00, e.g. '00:00:15'.";
        }

        if (options.Timeout <= TimeSpan.Zero || options.Timeout > TimeSpan.FromMinutes(5))
        {
            return $"{Prefix}{nameof(options.Timeout)} is '{options.Timeout}'; it must be above zero and at most 00:05:00, e.g. '00:00:10'.";
        }

        if (options.MaxResponseBytes < 1024)
        {
            return $"{Prefix}{nameof(options.MaxResponseBytes)} is {options.MaxResponseBytes}; it must be at least 1024.";
        }

        return null;
    }
}
