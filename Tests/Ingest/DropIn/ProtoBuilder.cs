namespace AnomalyZT.Tests.Ingest.DropIn;

/// <summary>Writes Protocol Buffers wire format for tests: fields appended in call order.</summary>
internal sealed class ProtoBuilder
{
    private readonly MemoryStream _bytes = new();

    public ProtoBuilder Varint(int field, ulong value)
    {
        Tag(field, 0);
        Raw(value);
        return this;
    }

    public ProtoBuilder Fixed64(int field, ulong value)
    {
        Tag(field, 1);
        Span<byte> b = stackalloc byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(b, value);
        _bytes.Write(b);
        return this;
    }

    public ProtoBuilder Double(int field, double value) => Fixed64(field, BitConverter.DoubleToUInt64Bits(value));

    public ProtoBuilder Bytes(int field, ReadOnlySpan<byte> value)
    {
        Tag(field, 2);
        Raw((ulong)value.Length);
        _bytes.Write(value);
        return this;
    }

    public ProtoBuilder String(int field, string value) => Bytes(field, System.Text.Encoding.UTF8.GetBytes(value));

    public ProtoBuilder Message(int field, ProtoBuilder message) => Bytes(field, message.ToArray());

    /// <summary>A KeyValue with a string AnyValue, as field <paramref name="field"/>.</summary>
    public ProtoBuilder StringAttribute(int field, string key, string value) =>
        Message(field, new ProtoBuilder().String(1, key).Message(2, new ProtoBuilder().String(1, value)));

    /// <summary>A KeyValue with an int AnyValue, as field <paramref name="field"/>.</summary>
    public ProtoBuilder IntAttribute(int field, string key, long value) =>
        Message(field, new ProtoBuilder().String(1, key).Message(2, new ProtoBuilder().Varint(3, unchecked((ulong)value))));

    public byte[] ToArray() => _bytes.ToArray();

    private void Tag(int field, int wireType) => Raw(((ulong)field << 3) | (uint)wireType);

    private void Raw(ulong value)
    {
        while (value >= 0x80)
        {
            _bytes.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }

        _bytes.WriteByte((byte)value);
    }
}
