using System.Buffers.Binary;
using System.Collections.Frozen;
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
/// Lookups are one parse and one hash probe per distinct prefix length, over tables built once: read-only, so
/// thread-safe without locks, and without a cache a scan of many addresses could thrash.</remarks>
public sealed class NodeInventory
{
    private readonly PrefixTable[] _v4;
    private readonly PrefixTable[] _v6;

    /// <summary>Builds the inventory; throws <see cref="ArgumentException"/> naming the bad entry.</summary>
    public NodeInventory(IReadOnlyList<InventoryEntry> entries)
    {
        var v4 = new SortedDictionary<int, Dictionary<UInt128, string>>();
        var v6 = new SortedDictionary<int, Dictionary<UInt128, string>>();
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

            var ipv4 = network.BaseAddress.AddressFamily == AddressFamily.InterNetwork;
            var tables = ipv4 ? v4 : v6;
            if (!tables.TryGetValue(network.PrefixLength, out var table))
            {
                tables[network.PrefixLength] = table = [];
            }

            // The first entry listed for a network wins.
            table.TryAdd(Masked(Bits(network.BaseAddress), network.PrefixLength, ipv4 ? 32 : 128), e.Node);
        }

        Count = entries.Count;
        _v4 = Tables(v4);
        _v6 = Tables(v6);
    }

    /// <summary>Entries configured.</summary>
    public int Count { get; }

    /// <summary>The node owning <paramref name="ip"/>, or null (also for text that is not an address).</summary>
    public string? Resolve(string ip)
    {
        // Flow fields are untrusted text: bound it before parsing.
        if (ip.Length > 45 || !IPAddress.TryParse(ip, out var address))
        {
            return null;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (Count == 0)
        {
            return IsPrivate(address) ? address.ToString() : null;
        }

        var ipv4 = address.AddressFamily == AddressFamily.InterNetwork;
        var bits = Bits(address);
        foreach (var (length, table) in ipv4 ? _v4 : _v6)
        {
            if (table.TryGetValue(Masked(bits, length, ipv4 ? 32 : 128), out var node))
            {
                return node;
            }
        }

        return null;
    }

    /// <summary>The tables, longest prefix first, so the first match is the longest.</summary>
    private static PrefixTable[] Tables(SortedDictionary<int, Dictionary<UInt128, string>> byLength)
    {
        var tables = new PrefixTable[byLength.Count];
        var i = tables.Length;
        foreach (var (length, table) in byLength)
        {
            tables[--i] = new PrefixTable(length, table.ToFrozenDictionary());
        }

        return tables;
    }

    /// <summary>The address as an unsigned number (IPv4 in the low 32 bits).</summary>
    private static UInt128 Bits(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out var written);
        return written == 4 ? BinaryPrimitives.ReadUInt32BigEndian(bytes) : BinaryPrimitives.ReadUInt128BigEndian(bytes);
    }

    private static UInt128 Masked(UInt128 bits, int prefixLength, int width) =>
        prefixLength == 0 ? UInt128.Zero : bits & ((UInt128.MaxValue >> (128 - width)) ^ ((UInt128.One << (width - prefixLength)) - 1));

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

    private readonly record struct PrefixTable(int Length, FrozenDictionary<UInt128, string> Table);
}
