using System.Text;

namespace AnomalyZT.Ingest;

/// <summary>Limits and per-format settings for <see cref="LineDecoder"/>, bound from the
/// <see cref="SectionName"/> configuration section.</summary>
public sealed class IngestOptions
{
    /// <summary>Configuration section these options bind from.</summary>
    public const string SectionName = "Ingest";

    /// <summary>Longest configured principal path, in UTF-8 bytes; matching keeps the current path on the stack.</summary>
    internal const int MaxPathBytes = 200;

    /// <summary>Most principal paths one format may list.</summary>
    internal const int MaxPrincipalFields = 16;

    /// <summary>Largest body accepted, counted after decompression; larger bodies fail with 413.</summary>
    public long MaxBodyBytes { get; set; } = 16L * 1024 * 1024;

    /// <summary>Longest line, without its line ending; longer lines are rejected one by one.</summary>
    public int MaxLineBytes { get; set; } = 64 * 1024;

    /// <summary>Longest field value taken into an event, in bytes as written on the line.</summary>
    public int MaxFieldBytes { get; set; } = 8 * 1024;

    /// <summary>How far ahead of the silo clock an event may be timed. Later events are rejected: a single
    /// far-future timestamp would otherwise move the watermark and make every real event "late".</summary>
    public int MaxFutureSkewSeconds { get; set; } = 300;

    /// <summary>Bodies decoded at the same time; more wait briefly in a queue of the same size, then get 429.
    /// With <see cref="MaxBodyBytes"/> this bounds the memory ingest can hold.</summary>
    public int MaxConcurrentBodies { get; set; } = 8;

    /// <summary>Per-format settings keyed by format name (case-insensitive), e.g. <c>envoy</c>.</summary>
    public Dictionary<string, FormatOptions> Formats { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Checks every setting; returns one message per problem (empty when valid), each in the form
    /// "X is V; X must be …".</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (MaxBodyBytes < 1024)
        {
            errors.Add($"Ingest:MaxBodyBytes is {MaxBodyBytes}; Ingest:MaxBodyBytes must be at least 1024");
        }

        if (MaxLineBytes < 256 || MaxLineBytes > 16 * 1024 * 1024)
        {
            errors.Add($"Ingest:MaxLineBytes is {MaxLineBytes}; Ingest:MaxLineBytes must be between 256 and 16777216");
        }
        else if (MaxLineBytes > MaxBodyBytes)
        {
            errors.Add($"Ingest:MaxLineBytes is {MaxLineBytes}; Ingest:MaxLineBytes must not exceed Ingest:MaxBodyBytes ({MaxBodyBytes})");
        }

        if (MaxFieldBytes < 64 || MaxFieldBytes > MaxLineBytes)
        {
            errors.Add($"Ingest:MaxFieldBytes is {MaxFieldBytes}; Ingest:MaxFieldBytes must be between 64 and Ingest:MaxLineBytes ({MaxLineBytes})");
        }

        if (MaxConcurrentBodies is < 1 or > 1024)
        {
            errors.Add($"Ingest:MaxConcurrentBodies is {MaxConcurrentBodies}; Ingest:MaxConcurrentBodies must be from 1 to 1024");
        }

        if (MaxFutureSkewSeconds is < 0 or > 86_400)
        {
            errors.Add($"Ingest:MaxFutureSkewSeconds is {MaxFutureSkewSeconds}; Ingest:MaxFutureSkewSeconds must be from 0 to 86400");
        }

        foreach (var (name, format) in Formats)
        {
            ValidateFormat(name, format, errors);
        }

        return errors;
    }

    private static void ValidateFormat(string name, FormatOptions? format, List<string> errors)
    {
        var known = LineDecoder.Canonical(name);
        if (known is null)
        {
            errors.Add($"Ingest:Formats key is '{name}'; Ingest:Formats keys must be one of {string.Join(", ", LineDecoder.Formats)}");
            return;
        }

        var fields = format?.PrincipalFields;
        if (fields is null || fields.Count == 0)
        {
            return;
        }

        var key = $"Ingest:Formats:{name}:PrincipalFields";
        if (LineDecoder.DefaultPrincipalFields(known).Count == 0)
        {
            errors.Add($"{key} is set; {key} must be empty because {known} events carry no principal");
            return;
        }

        if (fields.Count > MaxPrincipalFields)
        {
            errors.Add($"{key} has {fields.Count} entries; {key} must have at most {MaxPrincipalFields}");
        }

        foreach (var path in fields)
        {
            if (string.IsNullOrWhiteSpace(path) || path.StartsWith('.') || path.EndsWith('.'))
            {
                errors.Add($"{key} contains '{path}'; {key} entries must be dotted JSON paths such as 'user.username'");
            }
            else if (Encoding.UTF8.GetByteCount(path) > MaxPathBytes)
            {
                errors.Add($"{key} contains a path of {Encoding.UTF8.GetByteCount(path)} bytes; {key} entries must be at most {MaxPathBytes} bytes");
            }
        }
    }
}

/// <summary>Settings for one input format.</summary>
public sealed class FormatOptions
{
    /// <summary>Ordered dotted JSON paths that carry the principal (e.g. <c>user.username</c>); the first present,
    /// non-empty value that is not <c>-</c> wins. Empty means the format's defaults
    /// (<see cref="LineDecoder.DefaultPrincipalFields"/>); a non-empty list replaces them.</summary>
    public List<string> PrincipalFields { get; set; } = [];
}
