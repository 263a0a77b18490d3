using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace AnomalyZT.Grains.Runtime;

/// <summary>One inventory entry: every address in <see cref="Cidr"/> belongs to <see cref="Node"/>.</summary>
public sealed class InventoryEntry
{
    /// <summary>An address or network, e.g. <c>10.0.1.17</c> or <c>10.0.2.0/24</c>.</summary>
    public string Cidr { get; set; } = string.Empty;

    /// <summary>Node name (as GPU samples' host label names it, so flows and GPU samples meet on one grain).</summary>
    public string Node { get; set; } = string.Empty;
}

/// <summary>Maps flow addresses to nodes by longest-prefix match over configured CIDRs.</summary>
/// <remarks>With no entries, private and loopback addresses are their own nodes (a sensible start for a lab);
/// with entries, only listed addresses are nodes, so the internet at large does not become grains.
/// Thread-safe: ingest threads resolve concurrently.</remarks>
public sealed class NodeInventory
{
    private const int MaxCached = 1 << 16;
    private readonly Entry[] _entries;

    // Flow addresses repeat heavily; parsing and scanning every prefix per flow end would dominate routing.
    private readonly ConcurrentDictionary<string, string?> _cache = new(StringComparer.Ordinal);

    /// <summary>Builds the inventory; throws <see cref="ArgumentException"/> naming the bad entry.</summary>
    public NodeInventory(IReadOnlyList<InventoryEntry> entries)
    {
        _entries = new Entry[entries.Count];
        for (var i = 0; i < entries.Count; i++)
        {
            var e = entries[i];
            if (string.IsNullOrWhiteSpace(e.Node))
            {
                throw new ArgumentException($"Inventory[{i}].Node is empty; every inventory entry needs a node name");
            }

            if (!IPNetwork.TryParse(e.Cidr, out var network) && !TryParseHost(e.Cidr, out network))
            {
                throw new ArgumentException($"Inventory[{i}].Cidr is '{e.Cidr}'; it must be an IP address or a CIDR like 10.0.2.0/24");
            }

            _entries[i] = new Entry(network, e.Node);
        }

        // Longest prefix first, so the first match wins.
        Array.Sort(_entries, static (a, b) => b.Network.PrefixLength.CompareTo(a.Network.PrefixLength));
    }

    /// <summary>Entries configured.</summary>
    public int Count => _entries.Length;

    /// <summary>The node owning <paramref name="ip"/>, or null.</summary>
    public string? Resolve(string ip)
    {
        if (_cache.TryGetValue(ip, out var node))
        {
            return node;
        }

        // Only well-formed addresses are cached: flow fields are untrusted text.
        if (ip.Length > 45 || !IPAddress.TryParse(ip, out _))
        {
            return null;
        }

        node = Lookup(ip);
        if (_cache.Count >= MaxCached)
        {
            _cache.Clear(); // bounded: a scan of many addresses must not grow memory without limit
        }

        _cache[ip] = node;
        return node;
    }

    private string? Lookup(string ip)
    {
        if (!IPAddress.TryParse(ip, out var address))
        {
            return null;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (_entries.Length == 0)
        {
            return IsPrivate(address) ? address.ToString() : null;
        }

        foreach (var entry in _entries)
        {
            if (entry.Network.Contains(address))
            {
                return entry.Node;
            }
        }

        return null;
    }

    private static bool TryParseHost(string text, out IPNetwork network)
    {
        if (IPAddress.TryParse(text, out var address))
        {
            network = new IPNetwork(address, address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128);
            return true;
        }

        network = default;
        return false;
    }

    private static bool IsPrivate(IPAddress address)
    {
        if (IPAddress.IsLoopback(address))
        {
            return true;
        }

        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            return address.IsIPv6UniqueLocal || address.IsIPv6LinkLocal;
        }

        Span<byte> b = stackalloc byte[4];
        address.TryWriteBytes(b, out _);
        return b[0] == 10 || (b[0] == 172 && (b[1] & 0xF0) == 16) || (b[0] == 192 && b[1] == 168) || (b[0] == 100 && (b[1] & 0xC0) == 64);
    }

    private readonly record struct Entry(IPNetwork Network, string Node);
}
