using System.Diagnostics;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Ingest;
using AnomalyZT.Ingest.DropIn;
using AnomalyZT.Silo.Runtime;
using AnomalyZT.Silo.State;
using Microsoft.Extensions.Options;

namespace AnomalyZT.Silo.Api;

/// <summary>OTLP/HTTP receivers, binary protobuf (<c>application/x-protobuf</c>, the default of the OTel Collector's
/// <c>otlphttp</c> exporter and the SDKs) or JSON (<c>encoding: json</c>): <c>POST /v1/logs</c> maps log records to access events by their attributes (semantic
/// conventions), <c>POST /v1/metrics</c> turns dcgm metrics into GPU samples. Answers OTLP's (partial) success.</summary>
internal static partial class IngestEndpoints
{
    public static void MapOtlp(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/logs", OtlpLogsAsync).RequireAuthorization(Security.Policies.Ingest).RequireRateLimiting(ConcurrencyPolicy);
        app.MapPost("/v1/metrics", OtlpMetricsAsync).RequireAuthorization(Security.Policies.Ingest).RequireRateLimiting(ConcurrencyPolicy);
    }

    private static async Task<IResult> OtlpLogsAsync(
        HttpContext http, IGrainRuntime runtime, IOptions<IngestOptions> options, RuntimeMetrics metrics, TimeProvider time,
        Response.TokenVault tokens, Receivers.ShipperGate gate, OtlpAccessMapping mapping, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        var (body, protobuf, refused) = await ReadOtlpBodyAsync(http, options.Value.MaxBodyBytes, ct).ConfigureAwait(false);
        if (refused is not null)
        {
            return refused;
        }

        OtlpLogsResult read;
        try
        {
            read = protobuf ? OtlpProtobufReader.ReadLogs(body) : OtlpJsonReader.ReadLogs(body);
        }
        catch (IngestLimitException ex)
        {
            return TooLarge(ex);
        }

        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var notAfter = now + (options.Value.MaxFutureSkewSeconds * 1000L);
        var letters = read.Errors.Select(e => Letter("otlp:logs", now, e)).ToList();
        using var events = new PooledList<EngineEvent>();
        var converted = new List<EngineEvent>(read.Records.Count);
        foreach (var record in read.Records)
        {
            if (!OtlpJsonReader.TryToAccessEvent(record, mapping, out var access, out var reason))
            {
                letters.Add(new DeadLetter(0, now, "otlp:logs", record.Index + 1, reason ?? "not an access record", []));
            }
            else if (access.TimestampMs > notAfter)
            {
                letters.Add(new DeadLetter(0, now, "otlp:logs", record.Index + 1,
                    $"record time is more than Ingest:MaxFutureSkewSeconds ({options.Value.MaxFutureSkewSeconds}) ahead of the silo clock", []));
            }
            else
            {
                converted.Add(EngineEvent.From(access));
            }
        }

        AddWithoutTokens(converted.ToArray(), events, tokens);
        return await FinishOtlpAsync(http, runtime, metrics, gate, "otlp:logs", "rejectedLogRecords", protobuf, events, letters, started, ct).ConfigureAwait(false);
    }

    private static async Task<IResult> OtlpMetricsAsync(
        HttpContext http, IGrainRuntime runtime, IOptions<IngestOptions> options, RuntimeMetrics metrics, TimeProvider time,
        Receivers.ShipperGate gate, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        var (body, protobuf, refused) = await ReadOtlpBodyAsync(http, options.Value.MaxBodyBytes, ct).ConfigureAwait(false);
        if (refused is not null)
        {
            return refused;
        }

        OtlpGpuResult read;
        try
        {
            read = protobuf ? OtlpProtobufReader.ReadGpuMetrics(body) : OtlpJsonReader.ReadGpuMetrics(body);
        }
        catch (IngestLimitException ex)
        {
            return TooLarge(ex);
        }

        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var letters = read.Errors.Select(e => Letter("otlp:metrics", now, e)).ToList();
        using var events = new PooledList<EngineEvent>();
        events.AddRange(read.Samples.Select(s => EngineEvent.From(s)).ToArray());
        return await FinishOtlpAsync(http, runtime, metrics, gate, "otlp:metrics", "rejectedDataPoints", protobuf, events, letters, started, ct).ConfigureAwait(false);
    }

    private static async Task<IResult> FinishOtlpAsync(
        HttpContext http, IGrainRuntime runtime, RuntimeMetrics metrics, Receivers.ShipperGate gate, string source, string rejectedName, bool protobuf,
        PooledList<EngineEvent> events, List<DeadLetter> letters, long started, CancellationToken ct)
    {
        var format = protobuf ? "otlp-protobuf" : "otlp-json";
        var (outcome, _) = await gate.AdmitAsync(http, runtime, source, format, events.Count + letters.Count, events.Memory, letters, ct).ConfigureAwait(false);
        if (outcome != Receivers.Admission.Taken)
        {
            // OTLP clients retry 429 with back-off, honouring Retry-After.
            return Results.StatusCode(StatusCodes.Status429TooManyRequests);
        }

        metrics.Ingested(source, events.Count, letters.Count, Stopwatch.GetElapsedTime(started).TotalSeconds);
        gate.Delivered(http, source, format, events.Count, letters.Count);
        if (protobuf)
        {
            // Export*ServiceResponse { partial_success = 1 { rejected_* = 1 (int64), error_message = 2 } }; empty when all taken.
            return Results.Bytes(letters.Count == 0 ? [] : OtlpPartialSuccess(letters.Count, letters[0].Reason), "application/x-protobuf");
        }

        var json = letters.Count == 0
            ? "{}"
            : System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, Dictionary<string, object>>
            {
                ["partialSuccess"] = new() { [rejectedName] = letters.Count, ["errorMessage"] = letters[0].Reason },
            }, Serialization.AnomalyJsonContext.Default.DictionaryStringDictionaryStringObject);
        return Results.Text(json, "application/json", System.Text.Encoding.UTF8);
    }

    /// <summary>A body over a per-body bound: refused whole, so the shipper splits it; nothing of it was taken.</summary>
    private static IResult TooLarge(IngestLimitException ex) =>
        Results.Json(new Security.ErrorBody("too_large", ex.Message), Serialization.AnomalyJsonContext.Default.ErrorBody, statusCode: ex.StatusCode);

    private static DeadLetter Letter(string source, long now, DropInError e) => new(0, now, source, e.Index + 1, e.Reason, []);

    /// <summary>The body of an OTLP request and whether it is protobuf (<c>application/x-protobuf</c>) rather than JSON,
    /// or the 415 (another type) or 413 (too large) to answer.</summary>
    private static async Task<(byte[] Body, bool Protobuf, IResult? Refused)> ReadOtlpBodyAsync(HttpContext http, long limit, CancellationToken ct)
    {
        var type = http.Request.ContentType;
        var protobuf = type is not null && type.StartsWith("application/x-protobuf", StringComparison.OrdinalIgnoreCase);
        if (!protobuf && NotJson(http) is { } unsupported)
        {
            return ([], false, unsupported);
        }

        var (body, refused) = await ReadBodyAsync(http, limit, ct).ConfigureAwait(false);
        return (body, protobuf, refused);
    }

    /// <summary>An OTLP export response with partial success, protobuf-encoded.</summary>
    private static byte[] OtlpPartialSuccess(long rejected, string message)
    {
        var text = System.Text.Encoding.UTF8.GetBytes(message);
        using var inner = new MemoryStream();
        inner.WriteByte(0x08); // field 1, varint
        WriteVarint(inner, (ulong)rejected);
        inner.WriteByte(0x12); // field 2, length-delimited
        WriteVarint(inner, (ulong)text.Length);
        inner.Write(text);
        using var outer = new MemoryStream();
        outer.WriteByte(0x0A); // field 1, length-delimited
        WriteVarint(outer, (ulong)inner.Length);
        inner.Position = 0;
        inner.CopyTo(outer);
        return outer.ToArray();
    }

    private static void WriteVarint(Stream stream, ulong value)
    {
        while (value >= 0x80)
        {
            stream.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }

        stream.WriteByte((byte)value);
    }

    private static IResult? NotJson(HttpContext http) =>
        http.Request.ContentType is { } type && !type.StartsWith("application/json", StringComparison.OrdinalIgnoreCase)
            ? Results.Json(new Security.ErrorBody("unsupported_media_type",
                $"Content-Type '{type}' is not supported here; send OTLP/HTTP as application/x-protobuf or application/json"),
                Serialization.AnomalyJsonContext.Default.ErrorBody, statusCode: StatusCodes.Status415UnsupportedMediaType)
            : null;
}
