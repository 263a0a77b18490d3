using System.Collections.Frozen;
using System.IO.Compression;
using System.IO.Pipelines;
using AnomalyZT.Ingest.Parsing;

namespace AnomalyZT.Ingest;

/// <summary>Decodes NDJSON/line bodies into <see cref="AnomalyZT.Grains.Interfaces.EngineEvent"/>s, streaming from a
/// <see cref="PipeReader"/>. Immutable after construction and safe to share; each call keeps its own per-body state.</summary>
public sealed class LineDecoder
{
    private const string Generic = "generic";
    private const string Envoy = "envoy";
    private const string K8sAudit = "k8s-audit";
    private const string ZeekConn = "zeek-conn";
    private const string Gpu = "gpu";

    private static readonly string[] FormatNames = [Generic, Envoy, K8sAudit, ZeekConn, Gpu];

    private readonly IngestOptions _options;
    private readonly FrozenDictionary<string, FieldMap> _maps;

    /// <summary>Creates a decoder; the options are validated (see <see cref="IngestOptions.Validate"/>) and copied.</summary>
    /// <exception cref="ArgumentException">The options are invalid; the message lists every problem.</exception>
    public LineDecoder(IngestOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join("; ", errors), nameof(options));
        }

        _options = new IngestOptions
        {
            MaxBodyBytes = options.MaxBodyBytes,
            MaxLineBytes = options.MaxLineBytes,
            MaxFieldBytes = options.MaxFieldBytes,
        };

        var maps = new Dictionary<string, FieldMap>(StringComparer.OrdinalIgnoreCase);
        foreach (var format in FormatNames)
        {
            maps[format] = new FieldMap(FieldsOf(format), PrincipalFieldsFor(options, format));
        }

        _maps = maps.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>The format names <see cref="DecodeAsync"/> accepts: generic, envoy, k8s-audit, zeek-conn, gpu.</summary>
    public static IReadOnlyCollection<string> Formats => FormatNames;

    /// <summary>The principal paths a format uses when <see cref="FormatOptions.PrincipalFields"/> is empty
    /// (none for formats without a principal).</summary>
    /// <exception cref="ArgumentException">Unknown format.</exception>
    public static IReadOnlyList<string> DefaultPrincipalFields(string format) => Canonical(format) switch
    {
        Generic => GenericParser.DefaultPrincipalFields,
        Envoy => EnvoyParser.DefaultPrincipalFields,
        K8sAudit => K8sAuditParser.DefaultPrincipalFields,
        ZeekConn or Gpu => [],
        _ => throw new ArgumentException($"unknown format '{format}'", nameof(format)),
    };

    /// <summary>Wraps a request body for <see cref="DecodeAsync"/>, decompressing gzip when asked. The body stream is
    /// left open; completing the returned reader disposes only what this method created.</summary>
    public static PipeReader OpenBody(Stream body, bool gzip)
    {
        ArgumentNullException.ThrowIfNull(body);
        return gzip
            ? PipeReader.Create(new GZipStream(body, CompressionMode.Decompress, leaveOpen: true), new StreamPipeReaderOptions(leaveOpen: false))
            : PipeReader.Create(body, new StreamPipeReaderOptions(leaveOpen: true));
    }

    /// <summary>Streams lines from <paramref name="reader"/> and calls <paramref name="onBatch"/> every
    /// <paramref name="batchSize"/> events (or rejected lines), and once at the end for what is left. Line numbers are
    /// 1-based over the whole body. A batch is disposed when its callback completes. The reader is not completed.</summary>
    /// <param name="reader">The body, already decompressed (see <see cref="OpenBody"/>).</param>
    /// <param name="format">One of <see cref="Formats"/> (case-insensitive).</param>
    /// <param name="onBatch">Receives each batch; awaited before more of the body is read.</param>
    /// <param name="batchSize">Events per batch, at least 1.</param>
    /// <param name="ct">Cancels the read.</param>
    /// <param name="notAfterMs">Events timed after this (Unix ms) are rejected: the silo clock plus
    /// <see cref="IngestOptions.MaxFutureSkewSeconds"/> for live ingest, so one wrong clock cannot push the event-time
    /// watermark into the future; <see cref="long.MaxValue"/> for replays of old files.</param>
    /// <returns>Totals for the body.</returns>
    /// <exception cref="IngestLimitException">413 when the body passes <see cref="IngestOptions.MaxBodyBytes"/> (batches
    /// before that point have been delivered); 400 for an unknown format or a corrupt gzip stream.</exception>
    public async Task<DecodeSummary> DecodeAsync(
        PipeReader reader, string format, Func<DecodedBatch, ValueTask> onBatch, int batchSize, CancellationToken ct, long notAfterMs = long.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(onBatch);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        using var session = new DecodeSession(CreateParser(format), _options, batchSize, notAfterMs);
        while (true)
        {
            ReadResult result;
            try
            {
                result = await reader.ReadAsync(ct).ConfigureAwait(false);
            }
            catch (InvalidDataException ex)
            {
                throw new IngestLimitException(400, "request body is not valid gzip: " + ex.Message, ex);
            }

            if (result.IsCanceled)
            {
                throw new OperationCanceledException("the read of the request body was canceled", ct);
            }

            var buffer = result.Buffer;
            session.CheckBodyLimit(buffer.Length);
            var consumed = session.Process(buffer, result.IsCompleted, out var batchReady);
            if (batchReady)
            {
                // Leave the rest unexamined so the next read returns it at once.
                reader.AdvanceTo(consumed);
                await FlushAsync(session, onBatch).ConfigureAwait(false);
                continue;
            }

            reader.AdvanceTo(consumed, buffer.End);
            if (result.IsCompleted)
            {
                if (session.HasPending)
                {
                    await FlushAsync(session, onBatch).ConfigureAwait(false);
                }

                return session.Summary;
            }
        }
    }

    /// <summary>The canonical name of a known format, or null.</summary>
    public static string? Canonical(string? format)
    {
        foreach (var name in FormatNames)
        {
            if (string.Equals(name, format?.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                return name;
            }
        }

        return null;
    }

    private static async ValueTask FlushAsync(DecodeSession session, Func<DecodedBatch, ValueTask> onBatch)
    {
        using var batch = session.TakeBatch();
        await onBatch(batch).ConfigureAwait(false);
    }

    private ILineParser CreateParser(string format)
    {
        var name = Canonical(format)
            ?? throw new IngestLimitException(400, $"unknown format '{Truncate(format)}'; known formats: {string.Join(", ", FormatNames)}");
        var map = _maps[name];
        return name switch
        {
            Envoy => new EnvoyParser(map, _options),
            K8sAudit => new K8sAuditParser(map, _options),
            ZeekConn => new ZeekConnParser(map, _options),
            Gpu => new GpuParser(map, _options),
            _ => new GenericParser(map, _options),
        };
    }

    private static ReadOnlySpan<FieldSpec> FieldsOf(string format) => format switch
    {
        Envoy => EnvoyParser.Fields,
        K8sAudit => K8sAuditParser.Fields,
        ZeekConn => ZeekConnParser.Fields,
        Gpu => GpuParser.Fields,
        _ => GenericParser.Fields,
    };

    private static IReadOnlyList<string> PrincipalFieldsFor(IngestOptions options, string format)
    {
        foreach (var (key, value) in options.Formats)
        {
            if (Canonical(key) == format && value?.PrincipalFields is { Count: > 0 } fields)
            {
                return [.. fields];
            }
        }

        return DefaultPrincipalFields(format);
    }

    private static string Truncate(string? text) =>
        text is null ? string.Empty : text.Length <= 64 ? text : string.Concat(text.AsSpan(0, 64), "…");
}
