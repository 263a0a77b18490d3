using System.Buffers;
using System.Text.Json;
using AnomalyZT.Grains.Interfaces;

namespace AnomalyZT.Ingest.Parsing;

/// <summary>Streams one JSON object per line with <see cref="Utf8JsonReader"/>, stops only at the mapped paths
/// (skipping every other subtree whole), picks the best principal candidate, and leaves the event to the format.
/// String values are recorded as <see cref="Utf8Slice"/>s and become strings only when the line is an event.</summary>
internal abstract partial class JsonLineParser : ILineParser
{
    private readonly FieldMap _map;
    private readonly int _maxFieldBytes;
    private byte[]? _scratch;
    private byte[]? _compose;
    private Utf8Slice _principal;
    private int _principalRank;
    private TextTransform _principalTransform;

    protected JsonLineParser(FieldMap map, IngestOptions options)
    {
        _map = map;
        _maxFieldBytes = options.MaxFieldBytes;
    }

    /// <summary>Longest field value taken into an event.</summary>
    protected int MaxFieldBytes => _maxFieldBytes;

    /// <summary>The "none of [..]" list for the no-principal reason.</summary>
    protected string PrincipalList => _map.PrincipalList;

    /// <inheritdoc />
    public virtual LineStatus Parse(ReadOnlySpan<byte> line, out EngineEvent evt, out string? reason)
    {
        evt = default;
        ResetLine();
        _principal = default;
        _principalRank = int.MaxValue;
        try
        {
            reason = Walk(line);
        }
        catch (JsonException ex)
        {
            reason = DescribeJsonError(ex);
        }
        catch (InvalidOperationException)
        {
            // CopyString on a property name with an escaped lone surrogate.
            reason = "invalid JSON: a property name has an invalid escape sequence";
        }

        return reason is null ? Complete(line, out evt, out reason) : LineStatus.Rejected;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Return(ref _scratch);
        Return(ref _compose);
    }

    /// <summary>Clears the per-line field state.</summary>
    protected abstract void ResetLine();

    /// <summary>Reads the value of a mapped field; the reader sits on the value's first token and must be left on
    /// its last one (or on the first, for a container it leaves to the walker to skip).</summary>
    /// <returns>A reject reason, or null.</returns>
    protected abstract string? OnField(int fieldId, string name, ref Utf8JsonReader reader);

    /// <summary>Builds the event from the fields read, or rejects/filters the line.</summary>
    protected abstract LineStatus Complete(ReadOnlySpan<byte> line, out EngineEvent evt, out string? reason);

    /// <summary>The best principal found, as a string, or null when no principal path had a usable value.</summary>
    protected string? PrincipalText(ReadOnlySpan<byte> line) =>
        _principalRank == int.MaxValue ? null : Text(_principal, line, _principalTransform);

    private string? Walk(ReadOnlySpan<byte> line)
    {
        var reader = new Utf8JsonReader(line);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return "expected a JSON object";
        }

        Span<byte> path = stackalloc byte[IngestOptions.MaxPathBytes];
        var reason = WalkObject(ref reader, path, 0, StableHashing.Fnv1a64Seed);
        if (reason is null && reader.Read())
        {
            return "unexpected content after the JSON object";
        }

        return reason;
    }

    private string? WalkObject(ref Utf8JsonReader reader, scoped Span<byte> path, int prefixLength, ulong prefixHash)
    {
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.EndObject)
            {
                return null;
            }

            var pathLength = AppendName(ref reader, path, prefixLength);
            var hash = 0UL;
            if (pathLength > 0)
            {
                // Extends the parent's hash with ".name", which equals the hash of the whole dotted path.
                var start = prefixLength == 0 ? 0 : prefixLength + 1;
                var seed = prefixLength == 0 ? prefixHash : StableHashing.Fnv1a64((byte)'.', prefixHash);
                hash = StableHashing.Fnv1a64(path[start..pathLength], seed);
            }

            reader.Read();
            // A path too long for the buffer (length 0) cannot be mapped. Prefixes are checked before exact
            // matches so a configured path like "user" cannot hide "user.username".
            string? reason = null;
            if (pathLength > 0 && reader.TokenType == JsonTokenType.StartObject && _map.IsPrefix(hash))
            {
                reason = WalkObject(ref reader, path, pathLength, hash);
            }
            else if (pathLength > 0 && _map.TryFind(hash, path[..pathLength], out var entry))
            {
                reason = OnMapped(entry, ref reader);
            }

            if (reason is not null)
            {
                return reason;
            }

            if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
            {
                reader.Skip();
            }
        }

        return "unexpected end of line inside a JSON object";
    }

    // Writes "prefix.name" into the path buffer; 0 when it cannot fit (so it cannot be a mapped path).
    private static int AppendName(ref Utf8JsonReader reader, scoped Span<byte> path, int prefixLength)
    {
        var start = prefixLength == 0 ? 0 : prefixLength + 1;
        var raw = reader.ValueSpan;
        if (start + raw.Length > path.Length || raw.IsEmpty)
        {
            return 0;
        }

        if (prefixLength > 0)
        {
            path[prefixLength] = (byte)'.';
        }

        if (!reader.ValueIsEscaped)
        {
            raw.CopyTo(path[start..]);
            return start + raw.Length;
        }

        return start + reader.CopyString(path[start..]);
    }

    private string? OnMapped(FieldEntry entry, ref Utf8JsonReader reader)
    {
        if (entry.PrincipalRank >= 0 && entry.PrincipalRank < _principalRank && reader.TokenType == JsonTokenType.String)
        {
            var reason = CaptureString(ref reader, entry.Name, out var slice);
            if (reason is not null)
            {
                return reason;
            }

            if (!slice.IsAbsent && !TextRanges.IsBlank(TextRanges.Apply(entry.PrincipalTransform, Unescaped(slice, ref reader))))
            {
                _principal = slice;
                _principalRank = entry.PrincipalRank;
                _principalTransform = entry.PrincipalTransform;
            }
        }

        return entry.FieldId >= 0 ? OnField(entry.FieldId, entry.Name, ref reader) : null;
    }

    private static string DescribeJsonError(JsonException ex)
    {
        // The reader's message reads "'x' is invalid after a value. Expected either ',', '}', or ']'. LineNumber: 0 | BytePositionInLine: 17."
        var message = ex.Message;
        var cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        if (cut > 0)
        {
            message = message[..cut];
        }

        message = message.TrimEnd('.', ' ');
        return ex.BytePositionInLine is { } position
            ? $"invalid JSON at byte {position + 1} ({message})"
            : $"invalid JSON ({message})";
    }

    private byte[] Scratch() => _scratch ??= ArrayPool<byte>.Shared.Rent(_maxFieldBytes);

    private byte[] Compose() => _compose ??= ArrayPool<byte>.Shared.Rent((_maxFieldBytes * 4) + 16);

    private static void Return(ref byte[]? buffer)
    {
        if (buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            buffer = null;
        }
    }
}
