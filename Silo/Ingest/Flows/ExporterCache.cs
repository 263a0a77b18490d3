using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace AnomalyZT.Silo.Receivers.Flows;

/// <summary>One datagram source: its address as text (the decoder's template-cache key and
/// <see cref="Grains.Interfaces.FlowEvent.Exporter"/>) and the allowed source it matched (null: not allowed).</summary>
internal sealed record Exporter(string Address, string? Shipper);

/// <summary>Resolves a received <see cref="SocketAddress"/> to an <see cref="Exporter"/> without allocating for
/// sources seen before: exporters are few and send many datagrams. Used by the receive loop only.</summary>
internal sealed class ExporterCache(SourceAllowlist allowlist)
{
    // Sources are few in practice; a flood from many spoofed sources must not grow memory without limit.
    private const int MaxEntries = 4096;

    private readonly Dictionary<UInt128, Exporter> _byAddress = [];

    /// <summary>The exporter of <paramref name="peer"/> (the port is ignored: exporters may change it).</summary>
    public Exporter Resolve(SocketAddress peer)
    {
        var key = KeyOf(peer, out var v6, out var scope);
        if (_byAddress.TryGetValue(key, out var known))
        {
            return known;
        }

        Span<byte> bytes = stackalloc byte[16];
        BinaryPrimitives.WriteUInt128BigEndian(bytes, key);
        var address = new IPAddress(bytes, v6 ? scope : 0);
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        var exporter = new Exporter(address.ToString(), allowlist.Match(address));
        if (_byAddress.Count >= MaxEntries)
        {
            _byAddress.Clear();
        }

        _byAddress[key] = exporter;
        return exporter;
    }

    /// <summary>The 16 address bytes, IPv4 as IPv4-mapped IPv6 (sockaddr_in keeps the address at offset 4,
    /// sockaddr_in6 at offset 8 with the scope id at 24, on every platform .NET runs on).</summary>
    private static UInt128 KeyOf(SocketAddress peer, out bool v6, out long scope)
    {
        var raw = peer.Buffer.Span[..peer.Size];
        if (peer.Family == AddressFamily.InterNetworkV6 && raw.Length >= 28)
        {
            v6 = true;
            scope = System.Runtime.InteropServices.MemoryMarshal.Read<uint>(raw[24..]); // host byte order
            return BinaryPrimitives.ReadUInt128BigEndian(raw[8..]);
        }

        v6 = false;
        scope = 0;
        var v4 = raw.Length >= 8 ? BinaryPrimitives.ReadUInt32BigEndian(raw[4..]) : 0u;
        return ((UInt128)0xFFFF << 32) | v4;
    }
}
