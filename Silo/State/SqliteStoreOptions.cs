using Microsoft.Extensions.Options;

namespace AnomalyZT.Silo.State;

/// <summary>Where the embedded (SQLite) state store keeps its database. Bound from the <c>State</c> section.</summary>
public sealed class SqliteStoreOptions
{
    /// <summary>Configuration section the options bind from.</summary>
    public const string SectionName = "State";

    /// <summary>Folder holding the database; relative paths are resolved against the current directory.
    /// Created when missing.</summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary>File name of the database inside <see cref="DataDirectory"/> (no directory part).</summary>
    public string FileName { get; set; } = "anomalyzt.db";
}

/// <summary>Checks <see cref="SqliteStoreOptions"/> at start, naming the key, the value and what is allowed.</summary>
internal sealed class SqliteStoreOptionsValidator : IValidateOptions<SqliteStoreOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, SqliteStoreOptions options)
    {
        var failure = Check(options);
        return failure is null ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failure);
    }

    /// <summary>The first problem with <paramref name="options"/>, or null when they are usable.</summary>
    internal static string? Check(SqliteStoreOptions options)
    {
        const string Prefix = SqliteStoreOptions.SectionName + ":";
        if (string.IsNullOrWhiteSpace(options.DataDirectory))
        {
            return $"{Prefix}{nameof(options.DataDirectory)} is '{options.DataDirectory}'; "
                + $"{Prefix}{nameof(options.DataDirectory)} must name a folder, e.g. 'data'.";
        }

        if (options.DataDirectory.AsSpan().IndexOfAny(Path.GetInvalidPathChars()) >= 0)
        {
            return $"{Prefix}{nameof(options.DataDirectory)} is '{options.DataDirectory}'; "
                + $"{Prefix}{nameof(options.DataDirectory)} must not contain characters invalid in a path.";
        }

        var fileName = options.FileName;
        if (string.IsNullOrWhiteSpace(fileName)
            || fileName is "." or ".."
            || fileName.AsSpan().IndexOfAny(Path.GetInvalidFileNameChars()) >= 0
            || fileName.Contains('/', StringComparison.Ordinal)
            || fileName.Contains('\\', StringComparison.Ordinal)
            || fileName.StartsWith(':'))
        {
            return $"{Prefix}{nameof(options.FileName)} is '{fileName}'; "
                + $"{Prefix}{nameof(options.FileName)} must be a plain file name without a folder, e.g. 'anomalyzt.db'.";
        }

        return null;
    }
}
