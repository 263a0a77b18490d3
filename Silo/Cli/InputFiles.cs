using AnomalyZT.Ingest;

namespace AnomalyZT.Silo.Cli;

/// <summary>Resolves <c>--input</c> arguments (files or folders) to files with their formats.</summary>
/// <remarks>A folder contributes every file whose name ends in <c>.&lt;format&gt;.ndjson</c>, <c>.&lt;format&gt;.log</c>
/// (optionally <c>.gz</c>); a plain file takes <c>--format</c> or the same naming.</remarks>
internal static class InputFiles
{
    public static List<(string Path, string Format)> Resolve(IReadOnlyList<string> inputs, string? format)
    {
        var result = new List<(string, string)>();
        foreach (var input in inputs)
        {
            if (Directory.Exists(input))
            {
                var files = Directory.GetFiles(input);
                Array.Sort(files, StringComparer.Ordinal);
                foreach (var file in files)
                {
                    if (FormatOf(file) is { } f)
                    {
                        result.Add((file, f));
                    }
                }

                continue;
            }

            if (!File.Exists(input))
            {
                throw new FileNotFoundException($"--input '{input}' is neither a file nor a folder");
            }

            var resolved = format is not null ? LineDecoder.Canonical(format) : FormatOf(input);
            if (resolved is null)
            {
                throw new ArgumentException(format is not null
                    ? $"--format is '{format}'; it must be one of {string.Join(", ", LineDecoder.Formats)}"
                    : $"cannot tell the format of '{input}' from its name; pass --format ({string.Join(", ", LineDecoder.Formats)})");
            }

            result.Add((input, resolved));
        }

        if (result.Count == 0)
        {
            throw new ArgumentException("no input files found; name files like 2026-11-20T00.envoy.ndjson or pass --format");
        }

        return result;
    }

    public static bool IsGzip(string path) => path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase);

    private static string? FormatOf(string path)
    {
        var name = Path.GetFileName(path);
        if (IsGzip(name))
        {
            name = name[..^3];
        }

        var parts = name.Split('.');
        return parts.Length >= 3 ? LineDecoder.Canonical(parts[^2]) : null;
    }
}
