using System.Diagnostics.CodeAnalysis;
using AnomalyZT.Silo.Response.Connectors;

namespace AnomalyZT.Silo.Response;

/// <summary>The configured connectors by name.</summary>
public sealed class ConnectorRegistry
{
    private readonly Dictionary<string, IIdpConnector> _byName;

    /// <summary>A registry of <paramref name="connectors"/>.</summary>
    /// <exception cref="ArgumentException">Two share a name.</exception>
    public ConnectorRegistry(IEnumerable<IIdpConnector> connectors)
    {
        ArgumentNullException.ThrowIfNull(connectors);
        _byName = new Dictionary<string, IIdpConnector>(StringComparer.Ordinal);
        foreach (var c in connectors)
        {
            if (!_byName.TryAdd(c.Name, c))
            {
                throw new ArgumentException($"two connectors are named '{c.Name}'", nameof(connectors));
            }
        }
    }

    /// <summary>Configured names, sorted.</summary>
    public IReadOnlyList<string> Names => [.. _byName.Keys.Order(StringComparer.Ordinal)];

    /// <summary>The connector named <paramref name="name"/>.</summary>
    public bool TryGet(string name, [NotNullWhen(true)] out IIdpConnector? connector) => _byName.TryGetValue(name, out connector);
}
