using System.Diagnostics;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Ingest;
using AnomalyZT.Ingest.DropIn;
using AnomalyZT.Silo.Runtime;
using AnomalyZT.Silo.State;
using Microsoft.Extensions.Options;

namespace AnomalyZT.Silo.Api;

/// <summary>OTLP/HTTP receivers with the JSON encoding (the OTel Collector's <c>otlphttp</c> exporter with
/// <c>encoding: json</c>): <c>POST /v1/logs</c> maps log records to access events by their attributes (semantic
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
        Response.TokenVault tokens, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        var (body, refused) = await ReadJsonBodyAsync(http, options.Value.MaxBodyBytes, ct).ConfigureAwait(false);
        if (refused is not null)
        {
            return refused;
        }

        var read = OtlpJsonReader.ReadLogs(body);
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var notAfter = now + (options.Value.MaxFutureSkewSeconds * 1000L);
        var letters = read.Errors.Select(e => Letter("otlp:logs", now, e)).ToList();
        using var events = new PooledList<EngineEvent>();
        var converted = new List<EngineEvent>(read.Records.Count);
        foreach (var record in read.Records)
        {
            if (!OtlpJsonReader.TryToAccessEvent(record, null, out var access, out var reason))
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
        return await FinishOtlpAsync(http, runtime, metrics, "otlp:logs", "rejectedLogRecords", events, letters, started, ct).ConfigureAwait(false);
    }

    private static async Task<IResult> OtlpMetricsAsync(
        HttpContext http, IGrainRuntime runtime, IOptions<IngestOptions> options, RuntimeMetrics metrics, TimeProvider time, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        var (body, refused) = await ReadJsonBodyAsync(http, options.Value.MaxBodyBytes, ct).ConfigureAwait(false);
        if (refused is not null)
        {
            return refused;
        }

        var read = OtlpJsonReader.ReadGpuMetrics(body);
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var letters = read.Errors.Select(e => Letter("otlp:metrics", now, e)).ToList();
        using var events = new PooledList<EngineEvent>();
        events.AddRange(read.Samples.Select(s => EngineEvent.From(s)).ToArray());
        return await FinishOtlpAsync(http, runtime, metrics, "otlp:metrics", "rejectedDataPoints", events, letters, started, ct).ConfigureAwait(false);
    }

    private static async Task<IResult> FinishOtlpAsync(
        HttpContext http, IGrainRuntime runtime, RuntimeMetrics metrics, string source, string rejectedName, PooledList<EngineEvent> events,
        List<DeadLetter> letters, long started, CancellationToken ct)
    {
        var dispatch = await runtime.DispatchAsync(events.Memory, letters, ct).ConfigureAwait(false);
        if (!dispatch.Admitted)
        {
            // OTLP clients retry 429 and 503 with back-off (honouring Retry-After).
            http.Response.Headers.RetryAfter = ((int)Math.Ceiling(dispatch.RetryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Results.StatusCode(StatusCodes.Status429TooManyRequests);
        }

        metrics.Ingested(source, events.Count, letters.Count, Stopwatch.GetElapsedTime(started).TotalSeconds);
        var json = letters.Count == 0
            ? "{}"
            : System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, Dictionary<string, object>>
            {
                ["partialSuccess"] = new() { [rejectedName] = letters.Count, ["errorMessage"] = letters[0].Reason },
            }, Serialization.AnomalyJsonContext.Default.DictionaryStringDictionaryStringObject);
        return Results.Text(json, "application/json", System.Text.Encoding.UTF8);
    }

    private static DeadLetter Letter(string source, long now, DropInError e) => new(0, now, source, e.Index + 1, e.Reason, []);

    /// <summary>The body of a JSON request, or the 415 (not JSON) or 413 (too large) to answer.</summary>
    private static async Task<(byte[] Body, IResult? Refused)> ReadJsonBodyAsync(HttpContext http, long limit, CancellationToken ct) =>
        NotJson(http) is { } unsupported ? ([], unsupported) : await ReadBodyAsync(http, limit, ct).ConfigureAwait(false);

    private static IResult? NotJson(HttpContext http) =>
        http.Request.ContentType is { } type && !type.StartsWith("application/json", StringComparison.OrdinalIgnoreCase)
            ? Results.Json(new Security.ErrorBody("unsupported_media_type",
                $"Content-Type '{type}' is not supported here; send OTLP/HTTP with the JSON encoding (application/json), e.g. the otlphttp exporter with encoding: json"),
                Serialization.AnomalyJsonContext.Default.ErrorBody, statusCode: StatusCodes.Status415UnsupportedMediaType)
            : null;
}
