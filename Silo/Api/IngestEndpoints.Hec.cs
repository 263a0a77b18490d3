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
    public static void MapHec(this IEndpointRouteBuilder app)
    {
        app.MapPost("/services/collector/event", HecAsync).RequireAuthorization(Security.Policies.Ingest).RequireRateLimiting(ConcurrencyPolicy);
        app.MapPost("/services/collector", HecAsync).RequireAuthorization(Security.Policies.Ingest).RequireRateLimiting(ConcurrencyPolicy);
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

        byte[] body;
        try
        {
            var gzip = http.Request.Headers.ContentEncoding.ToString().Equals("gzip", StringComparison.OrdinalIgnoreCase);
            body = await ReadAllAsync(LineDecoder.OpenBody(http.Request.Body, gzip), options.Value.MaxBodyBytes, ct).ConfigureAwait(false);
        }
        catch (IngestLimitException)
        {
            return Results.Json(new Security.ErrorBody("too_large", $"the body is over Ingest:MaxBodyBytes ({options.Value.MaxBodyBytes} bytes)"),
                Serialization.AnomalyJsonContext.Default.ErrorBody, statusCode: StatusCodes.Status413PayloadTooLarge);
        }

        if (body.Length == 0)
        {
            return Hec(5, null);
        }

        var read = HecBodyReader.Read(body);
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var letters = read.Errors.Select(e => new DeadLetter(0, now, "hec", e.Index + 1, e.Reason, [])).ToList();
        var firstBad = read.Errors.Count > 0 ? read.Errors.Min(e => e.Index) : int.MaxValue;
        var accepted = 0;
        using var events = new PooledList<EngineEvent>();
        foreach (var group in read.Events.GroupBy(e => HecBodyReader.FormatForSourcetype(e.Sourcetype, fallback)))
        {
            var items = group.ToList();
            if (group.Key is not { } name || LineDecoder.Canonical(name) is not { } canonical)
            {
                foreach (var e in items)
                {
                    letters.Add(new DeadLetter(0, now, "hec", e.Index + 1, $"sourcetype '{e.Sourcetype}' names no format this silo parses", e.Line));
                    firstBad = Math.Min(firstBad, e.Index);
                }

                continue;
            }

            using var lines = new MemoryStream();
            foreach (var e in items)
            {
                lines.Write(e.Line);
                lines.WriteByte((byte)'\n');
            }

            lines.Position = 0;
            var summary = await decoder.DecodeAsync(PipeReader.Create(lines), canonical, batch =>
            {
                AddWithoutTokens(batch.Events, events, tokens);
                foreach (var r in batch.Rejected)
                {
                    var envelope = items[Math.Clamp(r.LineNumber - 1, 0, items.Count - 1)].Index;
                    letters.Add(new DeadLetter(0, now, "hec:" + canonical, envelope + 1, r.Reason, r.Payload));
                    firstBad = Math.Min(firstBad, envelope);
                }

                return ValueTask.CompletedTask;
            }, 4096, ct, now + (options.Value.MaxFutureSkewSeconds * 1000L)).ConfigureAwait(false);
            accepted += summary.Accepted;
            metrics.Ingested("hec:" + canonical, summary.Accepted, summary.Rejected, Stopwatch.GetElapsedTime(started).TotalSeconds);
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

    private static IResult Hec(int code, int? invalidEventNumber) =>
        Results.Text(System.Text.Encoding.UTF8.GetString(HecResponse.Body(code, invalidEventNumber)), "application/json", System.Text.Encoding.UTF8, HecResponse.HttpStatus(code));

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
