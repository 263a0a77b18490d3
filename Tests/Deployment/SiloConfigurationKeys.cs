using System.ComponentModel;
using System.Globalization;
using System.Reflection;
using AnomalyZT.Ingest;
using AnomalyZT.Silo.Cluster;
using AnomalyZT.Silo.Cluster.Bus;
using AnomalyZT.Silo.Hosting;
using AnomalyZT.Silo.Response;
using AnomalyZT.Silo.Runtime;
using AnomalyZT.Silo.Security;
using AnomalyZT.Silo.Siem;
using AnomalyZT.Silo.State;
using AnomalyZT.Silo.State.Postgres;

namespace AnomalyZT.Tests.Deployment;

/// <summary>Which configuration keys the silo really binds: each section the host binds, mapped to its options class,
/// and a walk of a key's remaining parts through that class's properties by reflection (list indexes, dictionary
/// keys, nested objects), the way <c>ConfigurationBinder</c> would.</summary>
internal static class SiloConfigurationKeys
{
    /// <summary>The prefix <c>SiloHost</c> reads environment variables with.</summary>
    public const string EnvironmentPrefix = "ANOMALYZT_";

    /// <summary>Sections and the options class each binds to (as SiloHost and the state registrations bind them). A key
    /// belongs to the longest section that prefixes it, so <c>State:Postgres:Schema</c> is
    /// <see cref="PostgresStoreOptions"/> while <c>State:DataDirectory</c> is <see cref="SqliteStoreOptions"/>.</summary>
    private static readonly (string Section, Type Type)[] Sections =
    [
        (EmbeddedRuntimeOptions.SectionName, typeof(EmbeddedRuntimeOptions)),
        (SqliteStoreOptions.SectionName, typeof(SqliteStoreOptions)),
        (PostgresStoreOptions.SectionName, typeof(PostgresStoreOptions)),
        (ClusterOptions.SectionName, typeof(ClusterOptions)),
        (RabbitBusOptions.SectionName, typeof(RabbitBusOptions)),
        (IngestOptions.SectionName, typeof(IngestOptions)),
        (ObservabilityOptions.SectionName, typeof(ObservabilityOptions)),
        (AuthOptions.SectionName, typeof(AuthOptions)),
        (ResponseOptions.SectionName, typeof(ResponseOptions)),
        (SiemOptions.SectionName, typeof(SiemOptions)),
    ];

    /// <summary>Top-level keys ASP.NET Core itself reads from configuration.</summary>
    private static readonly string[] HostKeys = ["Urls"];

    /// <summary>The configuration key an environment variable sets (<c>ANOMALYZT_Cluster__SiloId</c> →
    /// <c>Cluster:SiloId</c>), or null when the variable lacks the prefix.</summary>
    public static string? ToConfigurationKey(string variable) =>
        variable.StartsWith(EnvironmentPrefix, StringComparison.Ordinal)
            ? variable[EnvironmentPrefix.Length..].Replace("__", ":", StringComparison.Ordinal)
            : null;

    /// <summary>Null when <paramref name="key"/> sets a value the silo binds; otherwise why it does not, naming the key.</summary>
    public static string? Problem(string key)
    {
        var parts = key.Split(':');
        if (parts.Any(p => p.Length == 0))
        {
            return $"{key}: has an empty section name";
        }

        if (parts.Length == 1 && HostKeys.Contains(parts[0], StringComparer.OrdinalIgnoreCase))
        {
            return null;
        }

        var section = Sections
            .Where(s => IsPrefix(s.Section.Split(':'), parts))
            .OrderByDescending(s => s.Section.Length)
            .FirstOrDefault();
        if (section.Type is null)
        {
            return $"{key}: no options class binds a section '{parts[0]}' (known: {string.Join(", ", Sections.Select(s => s.Section))}, and {string.Join(", ", HostKeys)})";
        }

        var type = section.Type;
        var depth = section.Section.Split(':').Length;
        for (var i = depth; i < parts.Length; i++)
        {
            var part = parts[i];
            var path = string.Join(':', parts[..i]);
            if (IsScalar(type))
            {
                return $"{key}: {path} is a {type.Name} value and has no '{part}'";
            }

            if (DictionaryValueType(type) is { } valueType)
            {
                type = valueType;
                continue;
            }

            if (ElementType(type) is { } elementType)
            {
                if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out _))
                {
                    return $"{key}: {path} is a list; '{part}' is not an index";
                }

                type = elementType;
                continue;
            }

            var property = type.GetProperty(part, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
            if (property is null || property.GetIndexParameters().Length > 0 || property.GetMethod is not { IsPublic: true })
            {
                return $"{key}: {type.Name} ({path}) has no property '{part}'";
            }

            // The binder sets scalars through a public setter and fills objects and collections in place.
            if (property.SetMethod is not { IsPublic: true } && IsScalar(property.PropertyType))
            {
                return $"{key}: {type.Name}.{property.Name} is read-only";
            }

            type = property.PropertyType;
        }

        return IsScalar(type) ? null : $"{key}: names the section {type.Name}, not a value inside it";
    }

    private static bool IsPrefix(string[] section, string[] parts) =>
        section.Length <= parts.Length && section.Select((s, i) => string.Equals(s, parts[i], StringComparison.OrdinalIgnoreCase)).All(b => b);

    /// <summary>What the binder converts from a string: anything with a type converter from string (numbers, strings,
    /// enums, TimeSpan, Uri…).</summary>
    private static bool IsScalar(Type type) => TypeDescriptor.GetConverter(type).CanConvertFrom(typeof(string));

    private static Type? DictionaryValueType(Type type) => GenericArguments(type, typeof(IDictionary<,>)) is [var key, var value] && key == typeof(string)
        ? value
        : GenericArguments(type, typeof(IReadOnlyDictionary<,>)) is [var roKey, var roValue] && roKey == typeof(string) ? roValue : null;

    private static Type? ElementType(Type type) => type.IsArray ? type.GetElementType() : GenericArguments(type, typeof(IEnumerable<>)) is [var element] ? element : null;

    private static Type[]? GenericArguments(Type type, Type openInterface)
    {
        if (type.IsGenericType && type.GetGenericTypeDefinition() == openInterface)
        {
            return type.GetGenericArguments();
        }

        return type.GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == openInterface)?.GetGenericArguments();
    }
}
