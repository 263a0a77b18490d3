using System.Diagnostics;
using System.IO.Pipelines;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Ingest;
using AnomalyZT.Ingest.DropIn;
using AnomalyZT.Silo.Runtime;
using AnomalyZT.Silo.State;
using Microsoft.Extensions.Options;

namespace AnomalyZT.Silo.Api;

/// <summary>The Splunk HEC drop-in: <c>POST /services/collector/event</c> (and <c>/services/collector</c>) with
/// <c>Authorization: Splunk &lt;api key&gt;</c>, so a stock HEC output (Fluent Bit <c>splunk</c>, Vector
/// <c>splunk_hec_logs</c>, Logstash <c>http</c>, the OTel Collector <c>splunk_hec</c> exporter) can point at the silo.
/// Each envelope's <c>event</c> is parsed by the format its <c>sourcetype</c> names (or <c>?format=</c>).</summary>
internal static partial class IngestEndpoints
{
    public static void MapDropIns(this IEndpointRouteBuilder app)
    {
        app.MapPost("/services/collector/event", HecAsync).RequireAuthorization(Security.Policies.Ingest).RequireRateLimiting(ConcurrencyPolicy);
        app.MapPost("/services/collector", HecAsync).RequireAuthorization(Security.Policies.Ingest).RequireRateLimiting(ConcurrencyPolicy);
        app.MapPost("/_bulk", (HttpContext http, LineDecoder decoder, IGrainRuntime runtime, IOptions<IngestOptions> options, RuntimeMetrics metrics,
                TimeProvider time, Response.TokenVault tokens, string? format, CancellationToken ct) =>
                BulkAsync(http, decoder, runtime, options, metrics, time, tokens, null, format, ct))
            .RequireAuthorization(Security.Policies.Ingest).RequireRateLimiting(ConcurrencyPolicy);
        app.MapPost("/{index}/_bulk", BulkAsync).RequireAuthorization(Security.Policies.Ingest).RequireRateLimiting(ConcurrencyPolicy);
    }

    private static async Task<IResult> HecAsync(
        HttpContext http, LineDecoder decoder, IGrainRuntime runtime, IOptions<IngestOptions> options, RuntimeMetrics metrics,
        TimeProvider time, Response.TokenVault tokens, string? format, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        var fallback = format is null ? "generic" : LineDecoder.Canonical(format);
        if (fallback is null)
        {
            return Hec(6, null);
        }

        var (body, refused) = await ReadBodyAsync(http, options.Value.MaxBodyBytes, ct).ConfigureAwait(false);
        if (refused is not null)
        {
            return refused;
        }

        if (body.Length == 0)
        {
            return Hec(5, null);
        }

        var read = HecBodyReader.Read(body);
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var letters = read.Errors.Select(e => new DeadLetter(0, now, "hec", e.Index + 1, e.Reason, [])).ToList();
        var firstBad = read.Errors.Count > 0 ? read.Errors.Min(e => e.Index) : int.MaxValue;
        using var events = new PooledList<EngineEvent>();
        var items = read.Events.Select(e => new DropInItem(e.Index, HecBodyReader.FormatForSourcetype(e.Sourcetype, fallback) ?? fallback, e.Line)).ToList();
        var later = await DecodeItemsAsync("hec", items, events, letters, decoder, options.Value, metrics, tokens, now, started, ct).ConfigureAwait(false);
        if (later.Count > 0)
        {
            firstBad = Math.Min(firstBad, later.Keys.Min());
        }

        var dispatch = await runtime.DispatchAsync(events.Memory, letters, ct).ConfigureAwait(false);
        if (!dispatch.Admitted)
        {
            http.Response.Headers.RetryAfter = ((int)Math.Ceiling(dispatch.RetryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Hec(9, null);
        }

        // Like Splunk: the valid events are taken; the first invalid one is named (and every invalid one dead-lettered).
        return firstBad == int.MaxValue ? Hec(0, null) : Hec(6, firstBad);
    }

    /// <summary>Elasticsearch <c>_bulk</c> drop-in (Fluent Bit <c>es</c>, Vector <c>elasticsearch</c>, Logstash
    /// <c>elasticsearch</c>): each item's source is parsed by the format its index names (an index containing
    /// <c>envoy</c>, <c>k8s-audit</c>, <c>zeek-conn</c> or <c>gpu</c>), or <c>?format=</c>, else generic. Answers with the
    /// bulk response and a status per item.</summary>
    private static async Task<IResult> BulkAsync(
        HttpContext http, LineDecoder decoder, IGrainRuntime runtime, IOptions<IngestOptions> options, RuntimeMetrics metrics,
        TimeProvider time, Response.TokenVault tokens, string? index, string? format, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        var fallback = format is null ? "generic" : LineDecoder.Canonical(format);
        if (fallback is null)
        {
            return Results.Json(new Security.ErrorBody("bad_request", $"format '{format}' is unknown; allowed: {string.Join(", ", LineDecoder.Formats)}"),
                Serialization.AnomalyJsonContext.Default.ErrorBody, statusCode: StatusCodes.Status400BadRequest);
        }

        var (body, refused) = await ReadBodyAsync(http, options.Value.MaxBodyBytes, ct).ConfigureAwait(false);
        if (refused is not null)
        {
            return refused;
        }

        var read = ElasticBulkReader.Read(body, index);
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var letters = read.Items.Where(i => !i.Accepted).Select(i => new DeadLetter(0, now, "bulk", i.Index + 1, i.Error!, [])).ToList();
        using var events = new PooledList<EngineEvent>();
        var items = read.Items.Where(i => i.Accepted).Select(i => new DropInItem(i.Index, FormatOfIndex(i.IndexName) ?? fallback, i.Source!)).ToList();
        var later = await DecodeItemsAsync("bulk", items, events, letters, decoder, options.Value, metrics, tokens, now, started, ct).ConfigureAwait(false);
        var dispatch = await runtime.DispatchAsync(events.Memory, letters, ct).ConfigureAwait(false);
        if (!dispatch.Admitted)
        {
            http.Response.Headers.RetryAfter = ((int)Math.Ceiling(dispatch.RetryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Results.Json(new Security.ErrorBody("busy", "the engine's queues are full; nothing of this body was taken, retry it"),
                Serialization.AnomalyJsonContext.Default.ErrorBody, statusCode: StatusCodes.Status429TooManyRequests);
        }

        var took = (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        return Results.Text(System.Text.Encoding.UTF8.GetString(ElasticBulkReader.BuildResponse(read, took, later)), "application/json", System.Text.Encoding.UTF8);
    }

    private static string? FormatOfIndex(string? index) =>
        index is null ? null : LineDecoder.Formats.FirstOrDefault(f => index.Contains(f, StringComparison.OrdinalIgnoreCase));

    /// <summary>Parses drop-in items, grouped by format, with the existing line parsers; events go to
    /// <paramref name="events"/> (tokens to the vault), rejected items to <paramref name="letters"/>. Returns the
    /// parser's reason per rejected item number.</summary>
    private static async Task<Dictionary<int, string>> DecodeItemsAsync(
        string source, List<DropInItem> items, PooledList<EngineEvent> events, List<DeadLetter> letters, LineDecoder decoder,
        IngestOptions options, RuntimeMetrics metrics, Response.TokenVault tokens, long now, long started, CancellationToken ct)
    {
        var rejected = new Dictionary<int, string>();
        foreach (var group in items.GroupBy(i => LineDecoder.Canonical(i.Format) ?? "generic"))
        {
            var list = group.ToList();
            using var lines = new MemoryStream();
            foreach (var item in list)
            {
                lines.Write(item.Line);
                lines.WriteByte((byte)'\n');
            }

            lines.Position = 0;
            var summary = await decoder.DecodeAsync(PipeReader.Create(lines), group.Key, batch =>
            {
                AddWithoutTokens(batch.Events, events, tokens);
                foreach (var r in batch.Rejected)
                {
                    var number = list[Math.Clamp(r.LineNumber - 1, 0, list.Count - 1)].Number;
                    letters.Add(new DeadLetter(0, now, source + ":" + group.Key, number + 1, r.Reason, r.Payload));
                    rejected[number] = r.Reason;
                }

                return ValueTask.CompletedTask;
            }, 4096, ct, now + (options.MaxFutureSkewSeconds * 1000L)).ConfigureAwait(false);
            metrics.Ingested(source + ":" + group.Key, summary.Accepted, summary.Rejected, Stopwatch.GetElapsedTime(started).TotalSeconds);
        }

        return rejected;
    }

    private sealed record DropInItem(int Number, string Format, byte[] Line);

    private static IResult Hec(int code, int? invalidEventNumber) =>
        Results.Text(System.Text.Encoding.UTF8.GetString(HecResponse.Body(code, invalidEventNumber)), "application/json", System.Text.Encoding.UTF8, HecResponse.HttpStatus(code));

    /// <summary>The whole (decompressed) body, or the 413 to answer when it is over <paramref name="limit"/>.</summary>
    private static async Task<(byte[] Body, IResult? Refused)> ReadBodyAsync(HttpContext http, long limit, CancellationToken ct)
    {
        try
        {
            var gzip = http.Request.Headers.ContentEncoding.ToString().Equals("gzip", StringComparison.OrdinalIgnoreCase);
            return (await ReadAllAsync(LineDecoder.OpenBody(http.Request.Body, gzip), limit, ct).ConfigureAwait(false), null);
        }
        catch (IngestLimitException)
        {
            return ([], Results.Json(new Security.ErrorBody("too_large", $"the body is over Ingest:MaxBodyBytes ({limit} bytes)"),
                Serialization.AnomalyJsonContext.Default.ErrorBody, statusCode: StatusCodes.Status413PayloadTooLarge));
        }
    }

    private static async Task<byte[]> ReadAllAsync(PipeReader reader, long limit, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        while (true)
        {
            var result = await reader.ReadAsync(ct).ConfigureAwait(false);
            foreach (var segment in result.Buffer)
            {
                if (buffer.Length + segment.Length > limit)
                {
                    await reader.CompleteAsync().ConfigureAwait(false);
                    throw new IngestLimitException(413, "body too large");
                }

                buffer.Write(segment.Span);
            }

            reader.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                await reader.CompleteAsync().ConfigureAwait(false);
                return buffer.ToArray();
            }
        }
    }
}
