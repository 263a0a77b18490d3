using System.Globalization;
using System.Text.RegularExpressions;
using AnomalyZT.Silo.Response.Connectors;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AnomalyZT.Silo.State.Postgres;

/// <summary>Where the cluster (PostgreSQL) state store keeps its tables. Bound from the <c>State:Postgres</c> section.</summary>
public sealed class PostgresStoreOptions
{
    /// <summary>Configuration section the options bind from.</summary>
    public const string SectionName = "State:Postgres";

    /// <summary>An Npgsql connection string (<c>Host=…;Port=…;Database=…;Username=…</c>), or a secret reference to one:
    /// <c>env:NAME</c> or <c>file:/path</c>. It is never logged; <see cref="PostgresStoreOptionsValidator.Describe(PostgresStoreOptions)"/>
    /// gives the form that is.</summary>
    public string ConnectionString { get; set; } = string.Empty;

    /// <summary>The password, as a secret reference (<c>env:NAME</c>, <c>file:/path</c>, or the literal text); when set
    /// it replaces any password in <see cref="ConnectionString"/>, so the connection string can sit in plain
    /// configuration.</summary>
    public string Password { get; set; } = string.Empty;

    /// <summary>Schema holding the tables; created when missing. Lower-case letters, digits and underscores, starting
    /// with a letter or underscore, at most 63 characters, not <c>pg_…</c>.</summary>
    public string Schema { get; set; } = "anomalyzt";

    /// <summary>Most connections this silo opens (1..1000); replaces <c>Maximum Pool Size</c> of the connection string.</summary>
    public int MaxPoolSize { get; set; } = 20;
}

/// <summary>Checks <see cref="PostgresStoreOptions"/> at start, naming the key and what is allowed, never the secret.</summary>
public sealed partial class PostgresStoreOptionsValidator : IValidateOptions<PostgresStoreOptions>
{
    private const string Prefix = PostgresStoreOptions.SectionName + ":";

    /// <summary>Most connections a silo may ask for.</summary>
    internal const int MaxPoolSizeLimit = 1_000;

    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, PostgresStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failure = Check(options);
        return failure is null ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failure);
    }

    /// <summary>The first problem with <paramref name="options"/>, or null when they are usable. Secret references are
    /// resolved, so an unset variable or an unreadable file is reported here.</summary>
    public static string? Check(PostgresStoreOptions options) => TryBuild(options, out _);

    /// <summary>A description of where <paramref name="options"/> connect, for logs and errors: host, port, database,
    /// user and schema; never the password.</summary>
    public static string Describe(PostgresStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return TryBuild(options, out var builder) is null && builder is not null
            ? Describe(builder, options.Schema)
            : "PostgreSQL (" + Prefix + "ConnectionString not usable)";
    }

    /// <summary>Host, port, database, user and schema of a parsed connection string.</summary>
    internal static string Describe(NpgsqlConnectionStringBuilder builder, string schema) => string.Create(
        CultureInfo.InvariantCulture,
        $"PostgreSQL {builder.Host}:{builder.Port}/{builder.Database ?? builder.Username} as {builder.Username ?? "(default user)"}, schema {schema}");

    /// <summary>Validates <paramref name="options"/> and builds the connection string the store uses (search path set to
    /// the schema, pool size from the options); returns the first problem, or null.</summary>
    internal static string? TryBuild(PostgresStoreOptions options, out NpgsqlConnectionStringBuilder? builder)
    {
        ArgumentNullException.ThrowIfNull(options);
        builder = null;
        if (string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            return $"{Prefix}ConnectionString is empty; it must name the PostgreSQL server, e.g. "
                + "'Host=127.0.0.1;Port=5432;Database=anomalyzt;Username=anomalyzt', or be a secret reference "
                + "('env:NAME' or 'file:/path') to such a string.";
        }

        string text;
        try
        {
            text = SecretReference.Resolve(options.ConnectionString.Trim(), Prefix + "ConnectionString");
        }
        catch (InvalidOperationException ex)
        {
            return ex.Message + ".";
        }

        NpgsqlConnectionStringBuilder parsed;
        try
        {
            // Npgsql's messages name the keyword, never its value.
            parsed = new NpgsqlConnectionStringBuilder(text);
        }
        catch (ArgumentException ex)
        {
            return $"{Prefix}ConnectionString is not a valid PostgreSQL connection string: {ex.Message}";
        }

        if (string.IsNullOrWhiteSpace(parsed.Host))
        {
            return $"{Prefix}ConnectionString names no Host; add e.g. 'Host=127.0.0.1;Port=5432'.";
        }

        if (!string.IsNullOrEmpty(options.Password))
        {
            try
            {
                parsed.Password = SecretReference.Resolve(options.Password, Prefix + "Password");
            }
            catch (InvalidOperationException ex)
            {
                return ex.Message + ".";
            }
        }

        var schema = options.Schema;
        if (schema is null || !SchemaPattern().IsMatch(schema) || schema.StartsWith("pg_", StringComparison.Ordinal))
        {
            return $"{Prefix}Schema is '{schema}'; it must be 1 to 63 lower-case letters, digits or underscores, start "
                + "with a letter or underscore and not start with 'pg_', e.g. 'anomalyzt'.";
        }

        if (options.MaxPoolSize is < 1 or > MaxPoolSizeLimit)
        {
            return string.Create(CultureInfo.InvariantCulture,
                $"{Prefix}MaxPoolSize is {options.MaxPoolSize}; it must be between 1 and {MaxPoolSizeLimit}.");
        }

        parsed.MaxPoolSize = options.MaxPoolSize;
        parsed.MinPoolSize = Math.Min(parsed.MinPoolSize, options.MaxPoolSize);
        parsed.SearchPath = schema;
        if (string.IsNullOrEmpty(parsed.ApplicationName))
        {
            parsed.ApplicationName = "anomalyzt-silo";
        }

        builder = parsed;
        return null;
    }

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,62}$", RegexOptions.CultureInvariant)]
    private static partial Regex SchemaPattern();
}
