using System.Buffers.Binary;

namespace AnomalyZT.Tests.Ingest.Flows;

/// <summary>Builds big-endian export packets byte by byte, with set and message lengths filled in afterwards.</summary>
internal sealed class PacketWriter
{
    private readonly List<byte> _bytes = [];
    private int _setStart = -1;

    public int Length => _bytes.Count;

    public PacketWriter U8(int v)
    {
        _bytes.Add((byte)v);
        return this;
    }

    public PacketWriter U16(int v)
    {
        Span<byte> b = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(b, (ushort)v);
        _bytes.AddRange(b.ToArray());
        return this;
    }

    public PacketWriter U32(uint v)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(b, v);
        _bytes.AddRange(b.ToArray());
        return this;
    }

    public PacketWriter U64(ulong v)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(b, v);
        _bytes.AddRange(b.ToArray());
        return this;
    }

    public PacketWriter Ip(string address)
    {
        _bytes.AddRange(System.Net.IPAddress.Parse(address).GetAddressBytes());
        return this;
    }

    public PacketWriter Raw(params byte[] bytes)
    {
        _bytes.AddRange(bytes);
        return this;
    }

    /// <summary>NetFlow v9 header (RFC 3954 §5.1).</summary>
    public static PacketWriter V9(int count, uint sysUptime, uint unixSecs, uint sequence, uint sourceId) =>
        new PacketWriter().U16(9).U16(count).U32(sysUptime).U32(unixSecs).U32(sequence).U32(sourceId);

    /// <summary>IPFIX message header (RFC 7011 §3.1); the length is written by <see cref="ToArray"/>.</summary>
    public static PacketWriter Ipfix(uint exportTime, uint sequence, uint domainId) =>
        new PacketWriter().U16(10).U16(0).U32(exportTime).U32(sequence).U32(domainId);

    /// <summary>Opens a set; <see cref="EndSet"/> pads to 4 bytes and writes its length.</summary>
    public PacketWriter Set(int id)
    {
        _setStart = _bytes.Count;
        return U16(id).U16(0);
    }

    public PacketWriter EndSet(bool pad = true)
    {
        while (pad && (_bytes.Count - _setStart) % 4 != 0)
        {
            _bytes.Add(0);
        }

        var length = _bytes.Count - _setStart;
        _bytes[_setStart + 2] = (byte)(length >> 8);
        _bytes[_setStart + 3] = (byte)length;
        return this;
    }

    /// <summary>Template record: id, field count, then (type, length) pairs.</summary>
    public PacketWriter Template(int id, params (int Type, int Length)[] fields)
    {
        U16(id).U16(fields.Length);
        foreach (var (type, length) in fields)
        {
            U16(type).U16(length);
        }

        return this;
    }

    public byte[] ToArray()
    {
        var a = _bytes.ToArray();
        if (a.Length >= 4 && a[0] == 0 && a[1] == 10)
        {
            BinaryPrimitives.WriteUInt16BigEndian(a.AsSpan(2), (ushort)a.Length);
        }

        return a;
    }
}
