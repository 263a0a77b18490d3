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
        app.MapPost("/services/collector/raw", HecRawAsync).RequireAuthorization(Security.Policies.Ingest).RequireRateLimiting(ConcurrencyPolicy);
        app.MapPost("/_bulk", (HttpContext http, LineDecoder decoder, IGrainRuntime runtime, IOptions<IngestOptions> options, RuntimeMetrics metrics,
                TimeProvider time, Response.TokenVault tokens, Receivers.ShipperGate gate, string? format, CancellationToken ct) =>
                BulkAsync(http, decoder, runtime, options, metrics, time, tokens, gate, null, format, ct))
            .RequireAuthorization(Security.Policies.Ingest).RequireRateLimiting(ConcurrencyPolicy);
        app.MapPost("/{index}/_bulk", BulkAsync).RequireAuthorization(Security.Policies.Ingest).RequireRateLimiting(ConcurrencyPolicy);
        app.MapPost("/v1/ingest/cloudtrail", CloudTrailAsync).RequireAuthorization(Security.Policies.Ingest).RequireRateLimiting(ConcurrencyPolicy);
    }

    private static async Task<IResult> HecAsync(
        HttpContext http, LineDecoder decoder, IGrainRuntime runtime, IOptions<IngestOptions> options, RuntimeMetrics metrics,
        TimeProvider time, Response.TokenVault tokens, Receivers.ShipperGate gate, string? format, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        var fallback = format is null ? "generic" : Canonical(format);
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
        var decoded = await DecodeItemsAsync("hec", items, events, letters, decoder, options.Value, metrics, tokens, now, started, ct).ConfigureAwait(false);
        decoded.Tallies.Add(new FormatTally("hec", 0, read.Errors.Count));
        if (decoded.Rejected.Count > 0)
        {
            firstBad = Math.Min(firstBad, decoded.Rejected.Keys.Min());
        }

        if (!await DeliverAsync(http, "hec", gate, runtime, events, letters, decoded.Tallies, ct).ConfigureAwait(false))
        {
            return Hec(9, null);
        }

        // Like Splunk: the valid events are taken; the first invalid one is named (and every invalid one dead-lettered).
        return firstBad == int.MaxValue ? Hec(0, null) : Hec(6, firstBad);
    }

    /// <summary>HEC's raw endpoint: the body is lines of one format, named by <c>?sourcetype=</c> (Splunk's parameter)
    /// or <c>?format=</c>, else generic JSON; <c>aws:cloudtrail</c> also takes the <c>{"Records":[…]}</c> form.</summary>
    private static async Task<IResult> HecRawAsync(
        HttpContext http, LineDecoder decoder, IGrainRuntime runtime, IOptions<IngestOptions> options, RuntimeMetrics metrics,
        TimeProvider time, Response.TokenVault tokens, Receivers.ShipperGate gate, string? sourcetype, string? format, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        var chosen = format is not null ? Canonical(format) : HecBodyReader.FormatForSourcetype(sourcetype, "generic");
        if (chosen is null)
        {
            return Hec(6, null);
        }

        var (body, refused) = await ReadBodyAsync(http, options.Value.MaxBodyBytes, ct).ConfigureAwait(false);
        if (refused is not null)
        {
            return refused;
        }

        if (body.AsSpan().Trim(" \t\r\n"u8).IsEmpty)
        {
            return Hec(5, null);
        }

        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var letters = new List<DeadLetter>();
        using var events = new PooledList<EngineEvent>();
        var items = chosen == CloudTrailFormat ? [new DropInItem(0, chosen, body)] : LinesOf(body, chosen);
        var decoded = await DecodeItemsAsync("hec-raw", items, events, letters, decoder, options.Value, metrics, tokens, now, started, ct).ConfigureAwait(false);
        if (!await DeliverAsync(http, "hec-raw", gate, runtime, events, letters, decoded.Tallies, ct).ConfigureAwait(false))
        {
            return Hec(9, null);
        }

        return decoded.Rejected.Count == 0 ? Hec(0, null) : Hec(6, decoded.Rejected.Keys.Min());
    }

    /// <summary>Elasticsearch <c>_bulk</c> drop-in (Fluent Bit <c>es</c>, Vector <c>elasticsearch</c>, Logstash
    /// <c>elasticsearch</c>): each item's source is parsed by the format its index names (an index containing
    /// <c>envoy</c>, <c>k8s-audit</c>, <c>zeek-conn</c>, <c>gpu</c> or <c>cloudtrail</c>), or <c>?format=</c>, else
    /// generic. Answers with the bulk response and a status per item.</summary>
    private static async Task<IResult> BulkAsync(
        HttpContext http, LineDecoder decoder, IGrainRuntime runtime, IOptions<IngestOptions> options, RuntimeMetrics metrics,
        TimeProvider time, Response.TokenVault tokens, Receivers.ShipperGate gate, string? index, string? format, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        var fallback = format is null ? "generic" : Canonical(format);
        if (fallback is null)
        {
            return Results.Json(new Security.ErrorBody("bad_request", $"format '{format}' is unknown; allowed: {string.Join(", ", LineDecoder.Formats)}, {CloudTrailFormat}"),
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
        var decoded = await DecodeItemsAsync("bulk", items, events, letters, decoder, options.Value, metrics, tokens, now, started, ct).ConfigureAwait(false);
        decoded.Tallies.Add(new FormatTally("bulk", 0, read.Items.Count(i => !i.Accepted)));
        if (!await DeliverAsync(http, "bulk", gate, runtime, events, letters, decoded.Tallies, ct).ConfigureAwait(false))
        {
            return Results.Json(new Security.ErrorBody("busy", "the engine's queues are full or this shipper is over its rate limit; nothing of this body was taken, retry it"),
                Serialization.AnomalyJsonContext.Default.ErrorBody, statusCode: StatusCodes.Status429TooManyRequests);
        }

        var took = (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        return Results.Text(System.Text.Encoding.UTF8.GetString(ElasticBulkReader.BuildResponse(read, took, decoded.Rejected)), "application/json", System.Text.Encoding.UTF8);
    }

    /// <summary>A line format name, or <c>cloudtrail</c>; null when unknown.</summary>
    private static string? Canonical(string format) =>
        format.Equals(CloudTrailFormat, StringComparison.OrdinalIgnoreCase) ? CloudTrailFormat : LineDecoder.Canonical(format);

    private static string? FormatOfIndex(string? index) =>
        index is null ? null
        : index.Contains(CloudTrailFormat, StringComparison.OrdinalIgnoreCase) ? CloudTrailFormat
        : LineDecoder.Formats.FirstOrDefault(f => index.Contains(f, StringComparison.OrdinalIgnoreCase));

    /// <summary>Holds the shipper to its rate limit, dispatches all or nothing, and counts the outcome per format.
    /// False when nothing was taken (Retry-After is set): over the limit, or the engine's queues are full.</summary>
    private static async Task<bool> DeliverAsync(
        HttpContext http, string receiver, Receivers.ShipperGate gate, IGrainRuntime runtime, PooledList<EngineEvent> events,
        List<DeadLetter> letters, List<FormatTally> tallies, CancellationToken ct)
    {
        var (outcome, _) = await gate.AdmitAsync(http, runtime, receiver, "*", tallies.Sum(t => t.Accepted + t.Rejected), events.Memory, letters, ct)
            .ConfigureAwait(false);
        if (outcome != Receivers.Admission.Taken)
        {
            return false;
        }

        foreach (var t in tallies)
        {
            if (t.Accepted + t.Rejected > 0)
            {
                gate.Delivered(http, receiver, t.Format, t.Accepted, t.Rejected);
            }
        }

        return true;
    }

    /// <summary>Parses drop-in items, grouped by format, with the existing line parsers (CloudTrail items with
    /// <see cref="CloudTrailReader"/>); events go to <paramref name="events"/> (tokens to the vault), rejected items to
    /// <paramref name="letters"/>. Returns the reason per rejected item number and the counts per format.</summary>
    private static async Task<DecodedItems> DecodeItemsAsync(
        string source, List<DropInItem> items, PooledList<EngineEvent> events, List<DeadLetter> letters, LineDecoder decoder,
        IngestOptions options, RuntimeMetrics metrics, Response.TokenVault tokens, long now, long started, CancellationToken ct)
    {
        var decoded = new DecodedItems(new Dictionary<int, string>(), []);
        var notAfter = now + (options.MaxFutureSkewSeconds * 1000L);
        foreach (var group in items.GroupBy(i => Canonical(i.Format) ?? "generic"))
        {
            var list = group.ToList();
            if (group.Key == CloudTrailFormat)
            {
                decoded.Tallies.Add(DecodeCloudTrail(source, list, events, letters, decoded.Rejected, tokens, now, notAfter, options.MaxFutureSkewSeconds));
                continue;
            }

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
                    decoded.Rejected[number] = r.Reason;
                }

                return ValueTask.CompletedTask;
            }, 4096, ct, notAfter).ConfigureAwait(false);
            metrics.Ingested(source + ":" + group.Key, summary.Accepted, summary.Rejected, Stopwatch.GetElapsedTime(started).TotalSeconds);
            decoded.Tallies.Add(new FormatTally(group.Key, summary.Accepted, summary.Rejected));
        }

        return decoded;
    }

    /// <summary>The non-blank lines of a raw body as items numbered from 0.</summary>
    private static List<DropInItem> LinesOf(byte[] body, string format)
    {
        var items = new List<DropInItem>();
        var number = 0;
        foreach (var range in body.AsSpan().Split((byte)'\n'))
        {
            var line = body.AsSpan(range).TrimEnd("\r"u8);
            if (!line.Trim(" \t"u8).IsEmpty)
            {
                items.Add(new DropInItem(number, format, line.ToArray()));
            }

            number++;
        }

        return items;
    }

    private sealed record DecodedItems(Dictionary<int, string> Rejected, List<FormatTally> Tallies);

    private sealed record FormatTally(string Format, int Accepted, int Rejected);

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
        catch (InvalidDataException)
        {
            return ([], Results.Json(new Security.ErrorBody("bad_request", "the body is not valid gzip (Content-Encoding: gzip)"),
                Serialization.AnomalyJsonContext.Default.ErrorBody, statusCode: StatusCodes.Status400BadRequest));
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
