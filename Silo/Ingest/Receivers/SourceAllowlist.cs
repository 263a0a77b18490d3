using System.Net;

namespace AnomalyZT.Silo.Receivers;

/// <summary>A named source network allowed to send to a socket receiver (syslog over UDP/TCP, NetFlow): protocols with
/// no token are authenticated by where they come from. The name is the shipper name in metrics and rate limits.</summary>
public sealed class AllowedSource
{
    /// <summary>Shipper name, e.g. <c>rsyslog-relay</c>.</summary>
    public string Name { get; set; } = string.Empty;

    /// <summary>An address or CIDR, e.g. <c>10.1.0.0/16</c> or <c>127.0.0.1</c>.</summary>
    public string Cidr { get; set; } = string.Empty;
}

/// <summary>Matches a peer address against <see cref="AllowedSource"/>s, first match wins; no match means refused.
/// IPv4-mapped IPv6 peers are matched as IPv4.</summary>
public sealed class SourceAllowlist
{
    private readonly (IPNetwork Network, string Name)[] _entries;

    /// <summary>Parses the entries; throws <see cref="ArgumentException"/> naming <paramref name="key"/> and the bad entry.</summary>
    public SourceAllowlist(IEnumerable<AllowedSource> sources, string key)
    {
        var list = sources.ToList();
        if (Validate(list, key) is [var first, ..])
        {
            throw new ArgumentException(first);
        }

        _entries = [.. list.Select(s => (TryParse(s.Cidr, out var network) ? network : default, s.Name))];
    }

    /// <summary>Entries configured.</summary>
    public int Count => _entries.Length;

    /// <summary>Checks the entries without building the list: one message per bad entry.</summary>
    public static List<string> Validate(IReadOnlyList<AllowedSource> sources, string key)
    {
        var errors = new List<string>();
        for (var i = 0; i < sources.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(sources[i].Name))
            {
                errors.Add($"{key}:{i}:Name is empty; each allowed source needs a name (it is the shipper name in metrics)");
            }

            if (!TryParse(sources[i].Cidr, out _))
            {
                errors.Add($"{key}:{i}:Cidr is '{sources[i].Cidr}'; it must be an IP address or CIDR such as 10.0.0.0/8");
            }
        }

        return errors;
    }

    /// <summary>The name of the first entry containing <paramref name="peer"/>, or null when none does.</summary>
    public string? Match(IPAddress peer)
    {
        if (peer.IsIPv4MappedToIPv6)
        {
            peer = peer.MapToIPv4();
        }

        foreach (var (network, name) in _entries)
        {
            if (network.Contains(peer))
            {
                return name;
            }
        }

        return null;
    }

    private static bool TryParse(string? text, out IPNetwork network)
    {
        network = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        if (IPNetwork.TryParse(text, out network))
        {
            return true;
        }

        if (IPAddress.TryParse(text, out var address))
        {
            network = new IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128);
            return true;
        }

        return false;
    }
}
