using System.Buffers.Binary;

namespace AnomalyZT.Ingest.DropIn;

/// <summary>Protocol Buffers wire types (the low 3 bits of a tag).</summary>
internal enum ProtoWireType
{
    Varint = 0,
    Fixed64 = 1,
    Len = 2,
    StartGroup = 3,
    EndGroup = 4,
    Fixed32 = 5,
}

/// <summary>A forward-only reader of Protocol Buffers wire format over one message's bytes. Every length is checked
/// against the bytes left, so a hostile length can neither read past the message nor make it allocate; any malformed
/// input makes <see cref="Failed"/> true and every later read return false.</summary>
internal ref struct ProtoWire(ReadOnlySpan<byte> message)
{
    private ReadOnlySpan<byte> _rest = message;

    /// <summary>Set once the input was malformed (truncated varint, length past the end, bad wire type).</summary>
    public bool Failed { get; private set; }

    /// <summary>Reads the next field's number and wire type; false at the end of the message or on malformed input.</summary>
    public bool TryReadTag(out int field, out ProtoWireType type)
    {
        field = 0;
        type = default;
        if (Failed || _rest.IsEmpty)
        {
            return false;
        }

        if (!TryVarint(out var tag) || tag >> 3 is 0 or > 0x1FFFFFFF || (tag & 7) is 6 or 7)
        {
            return Fail();
        }

        field = (int)(tag >> 3);
        type = (ProtoWireType)(tag & 7);
        return true;
    }

    /// <summary>Reads a varint field's value.</summary>
    public bool TryVarint(out ulong value)
    {
        value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (_rest.IsEmpty)
            {
                return Fail();
            }

            var b = _rest[0];
            _rest = _rest[1..];
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return true;
            }
        }

        return Fail();
    }

    /// <summary>Reads a 64-bit little-endian field (fixed64, sfixed64, double).</summary>
    public bool TryFixed64(out ulong value)
    {
        if (_rest.Length < 8)
        {
            value = 0;
            return Fail();
        }

        value = BinaryPrimitives.ReadUInt64LittleEndian(_rest);
        _rest = _rest[8..];
        return true;
    }

    /// <summary>Reads a length-delimited field's bytes (a string, bytes or an embedded message).</summary>
    public bool TryBytes(out ReadOnlySpan<byte> bytes)
    {
        bytes = default;
        if (!TryVarint(out var length) || length > (ulong)_rest.Length)
        {
            return Fail();
        }

        bytes = _rest[..(int)length];
        _rest = _rest[(int)length..];
        return true;
    }

    /// <summary>Skips a field of <paramref name="type"/>. Groups (deprecated, unused by OTLP) are malformed here.</summary>
    public bool TrySkip(ProtoWireType type)
    {
        switch (type)
        {
            case ProtoWireType.Varint:
                return TryVarint(out _);
            case ProtoWireType.Fixed64:
                return TryFixed64(out _);
            case ProtoWireType.Len:
                return TryBytes(out _);
            case ProtoWireType.Fixed32:
                if (_rest.Length < 4)
                {
                    return Fail();
                }

                _rest = _rest[4..];
                return true;
            default:
                return Fail();
        }
    }

    /// <summary>Reads a field the caller expects with <paramref name="expected"/> wire type, else marks the input malformed.</summary>
    public bool Expect(ProtoWireType actual, ProtoWireType expected) => actual == expected || Fail();

    private bool Fail()
    {
        Failed = true;
        _rest = default;
        return false;
    }
}
