using System.Globalization;
using System.Text.Json;

namespace AnomalyZT.Ingest.DropIn;

/// <summary>Which member of an OTLP <c>AnyValue</c> is set.</summary>
internal enum AnyKind
{
    Empty,
    String,
    Bool,
    Int,
    Double,
    Array,
    KvList,
    Bytes,
}

/// <summary>An OTLP <c>common.v1.AnyValue</c> read from protobuf (string = 1, bool = 2, int = 3, double = 4,
/// array = 5, kvlist = 6, bytes = 7), rendered as text the way <see cref="OtlpJsonReader"/> renders the JSON encoding:
/// strings as is, numbers and booleans invariant, bytes as base64, arrays and kvlists as compact JSON.</summary>
internal sealed class AnyValue
{
    /// <summary>A value with no member set.</summary>
    public static readonly AnyValue Empty = new(AnyKind.Empty);

    private static readonly AnyValue MalformedValue = new(AnyKind.Empty) { Malformed = true };

    private AnyValue(AnyKind kind) => Kind = kind;

    public AnyKind Kind { get; private init; }

    /// <summary>True when the bytes were not a valid AnyValue (or nested deeper than <see cref="OtlpProtobufReader.MaxDepth"/>).</summary>
    public bool Malformed { get; private init; }

    private string? Str { get; init; }

    private long Int { get; init; }

    private double Dbl { get; init; }

    private bool Bool { get; init; }

    private List<AnyValue>? Items { get; init; }

    private List<(string Key, AnyValue Value)>? Pairs { get; init; }

    /// <summary>Reads one AnyValue message; the last member set wins, as protobuf's oneof does.</summary>
    public static AnyValue Read(ReadOnlySpan<byte> message, int depth)
    {
        if (depth > OtlpProtobufReader.MaxDepth)
        {
            return MalformedValue;
        }

        var value = Empty;
        var w = new ProtoWire(message);
        while (w.TryReadTag(out var field, out var type))
        {
            switch (field)
            {
                case 1 when type == ProtoWireType.Len && w.TryBytes(out var s):
                    value = new AnyValue(AnyKind.String) { Str = System.Text.Encoding.UTF8.GetString(s) };
                    break;
                case 2 when type == ProtoWireType.Varint && w.TryVarint(out var b):
                    value = new AnyValue(AnyKind.Bool) { Bool = b != 0 };
                    break;
                case 3 when type == ProtoWireType.Varint && w.TryVarint(out var i):
                    value = new AnyValue(AnyKind.Int) { Int = unchecked((long)i) };
                    break;
                case 4 when type == ProtoWireType.Fixed64 && w.TryFixed64(out var d):
                    value = new AnyValue(AnyKind.Double) { Dbl = BitConverter.UInt64BitsToDouble(d) };
                    break;
                case 5 when type == ProtoWireType.Len && w.TryBytes(out var array):
                    value = ReadArray(array, depth + 1);
                    break;
                case 6 when type == ProtoWireType.Len && w.TryBytes(out var kvlist):
                    value = ReadKvList(kvlist, depth + 1);
                    break;
                case 7 when type == ProtoWireType.Len && w.TryBytes(out var bytes):
                    value = new AnyValue(AnyKind.Bytes) { Str = Convert.ToBase64String(bytes) };
                    break;
                default:
                    w.TrySkip(type);
                    break;
            }

            if (value.Malformed)
            {
                return value;
            }
        }

        return w.Failed ? MalformedValue : value;
    }

    /// <summary>Adds this value under <paramref name="prefix"/><paramref name="key"/>: a kvlist is flattened as
    /// <c>key.member</c>, anything else as its text; empty values are left out. Returns the reason when a key or the
    /// count is over its bound (see <see cref="LayeredAttributeDictionary"/>).</summary>
    public string? FlattenAs(string key, string prefix, LayeredAttributeDictionary into)
    {
        // The joined key is checked before it is built: a long key under many members must not multiply memory.
        if (into.Refusal(prefix.Length + key.Length) is { } refusal)
        {
            return refusal;
        }

        if (Kind == AnyKind.KvList)
        {
            return FlattenInto(prefix + key + ".", into);
        }

        return Text() is { } text && !into.TrySet(prefix + key, text) ? into.Refusal(prefix.Length + key.Length) : null;
    }

    /// <summary>Adds each member of this kvlist under <paramref name="prefix"/>; the reason when over a bound.</summary>
    public string? FlattenInto(string prefix, LayeredAttributeDictionary into)
    {
        foreach (var (key, value) in Pairs ?? [])
        {
            if (value.FlattenAs(key, prefix, into) is { } refusal)
            {
                return refusal;
            }
        }

        return null;
    }

    /// <summary>The value as text; null when empty.</summary>
    public string? Text() => Kind switch
    {
        AnyKind.String or AnyKind.Bytes => Str,
        AnyKind.Bool => Bool ? "true" : "false",
        AnyKind.Int => Int.ToString(CultureInfo.InvariantCulture),
        AnyKind.Double => Dbl.ToString("R", CultureInfo.InvariantCulture),
        AnyKind.Array or AnyKind.KvList => Json(),
        _ => null,
    };

    private static AnyValue ReadArray(ReadOnlySpan<byte> message, int depth)
    {
        var items = new List<AnyValue>();
        var w = new ProtoWire(message);
        while (w.TryReadTag(out var field, out var type))
        {
            if (field == 1 && type == ProtoWireType.Len && w.TryBytes(out var item))
            {
                var value = Read(item, depth);
                if (value.Malformed)
                {
                    return value;
                }

                items.Add(value);
            }
            else
            {
                w.TrySkip(type);
            }
        }

        return w.Failed ? MalformedValue : new AnyValue(AnyKind.Array) { Items = items };
    }

    private static AnyValue ReadKvList(ReadOnlySpan<byte> message, int depth)
    {
        var pairs = new List<(string, AnyValue)>();
        var w = new ProtoWire(message);
        while (w.TryReadTag(out var field, out var type))
        {
            if (field == 1 && type == ProtoWireType.Len && w.TryBytes(out var kv))
            {
                if (!OtlpProtobufReader.TryKeyValue(kv, depth, out var key, out var value))
                {
                    return MalformedValue;
                }

                if (key is not null)
                {
                    pairs.Add((key, value));
                }
            }
            else
            {
                w.TrySkip(type);
            }
        }

        return w.Failed ? MalformedValue : new AnyValue(AnyKind.KvList) { Pairs = pairs };
    }

    private string Json()
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            Write(w);
        }

        return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private void Write(Utf8JsonWriter w)
    {
        switch (Kind)
        {
            case AnyKind.String or AnyKind.Bytes:
                w.WriteStringValue(Str);
                break;
            case AnyKind.Bool:
                w.WriteBooleanValue(Bool);
                break;
            case AnyKind.Int:
                w.WriteNumberValue(Int);
                break;
            case AnyKind.Double when double.IsFinite(Dbl):
                w.WriteNumberValue(Dbl);
                break;
            case AnyKind.Double:
                w.WriteStringValue(Dbl.ToString("R", CultureInfo.InvariantCulture)); // JSON has no NaN or infinity
                break;
            case AnyKind.Array:
                w.WriteStartArray();
                foreach (var item in Items!)
                {
                    item.Write(w);
                }

                w.WriteEndArray();
                break;
            case AnyKind.KvList:
                w.WriteStartObject();
                foreach (var (key, value) in Pairs!)
                {
                    w.WritePropertyName(key);
                    value.Write(w);
                }

                w.WriteEndObject();
                break;
            default:
                w.WriteNullValue();
                break;
        }
    }
}
