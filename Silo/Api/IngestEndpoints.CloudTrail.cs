using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Ingest;
using AnomalyZT.Ingest.DropIn;
using AnomalyZT.Silo.Runtime;
using AnomalyZT.Silo.State;
using Microsoft.Extensions.Options;

namespace AnomalyZT.Silo.Api;

/// <summary>AWS CloudTrail: <c>POST /v1/ingest/cloudtrail</c> takes a CloudTrail log file (<c>{"Records":[…]}</c>, gzip
/// as delivered to S3 with <c>Content-Encoding: gzip</c>) or one record per line (EventBridge and CloudWatch
/// forwarders); HEC (<c>sourcetype=aws:cloudtrail</c>) and <c>_bulk</c> (an index containing <c>cloudtrail</c>) take
/// the same records.</summary>
internal static partial class IngestEndpoints
{
    /// <summary>The format name of CloudTrail records (not a line format: a body may be one JSON document).</summary>
    private const string CloudTrailFormat = "cloudtrail";

    private static async Task<IResult> CloudTrailAsync(
        HttpContext http, IGrainRuntime runtime, IOptions<IngestOptions> options, RuntimeMetrics metrics, TimeProvider time,
        Response.TokenVault tokens, Receivers.ShipperGate gate, CancellationToken ct)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var (body, refused) = await ReadBodyAsync(http, options.Value.MaxBodyBytes, ct).ConfigureAwait(false);
        if (refused is not null)
        {
            return refused;
        }

        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var letters = new List<DeadLetter>();
        var rejected = new Dictionary<int, string>();
        using var events = new PooledList<EngineEvent>();
        var tally = DecodeCloudTrail("http", [new DropInItem(0, CloudTrailFormat, body)], events, letters, rejected, tokens, now,
            now + (options.Value.MaxFutureSkewSeconds * 1000L), options.Value.MaxFutureSkewSeconds);
        var (outcome, dispatch) = await gate.AdmitAsync(http, runtime, Receiver, CloudTrailFormat, tally.Accepted + tally.Rejected, events.Memory, letters, ct)
            .ConfigureAwait(false);
        if (outcome != Receivers.Admission.Taken)
        {
            return NotTaken(outcome);
        }

        metrics.Ingested(CloudTrailFormat, tally.Accepted, tally.Rejected, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds);
        gate.Delivered(http, Receiver, CloudTrailFormat, tally.Accepted, tally.Rejected);
        var listed = letters.Take(MaxListedErrors).Select(l => new LineRejection(l.LineNumber, l.Reason)).ToList();
        return Results.Json(new IngestResponse
        {
            Format = CloudTrailFormat,
            Lines = tally.Accepted + tally.Rejected,
            Accepted = tally.Accepted,
            Filtered = 0,
            Rejected = tally.Rejected,
            ControlLines = 0,
            Unattributed = dispatch.Unattributed,
            Errors = listed,
            ErrorsTruncated = letters.Count > MaxListedErrors,
        }, Serialization.AnomalyJsonContext.Default.IngestResponse);
    }

    /// <summary>Reads CloudTrail items (each a record, a line-per-record body or a <c>Records</c> file): records become
    /// access events (tokens to the vault); bad records and records timed too far ahead become dead letters numbered by
    /// item, or by record when the whole body is one item (<paramref name="rejected"/> is keyed the same way, from 0).</summary>
    private static FormatTally DecodeCloudTrail(
        string source, List<DropInItem> items, PooledList<EngineEvent> events, List<DeadLetter> letters, Dictionary<int, string> rejected,
        Response.TokenVault tokens, long now, long notAfter, int skewSeconds)
    {
        int accepted = 0, refusedRecords = 0;
        var wholeBody = items.Count == 1 && items[0].Number == 0;
        var taken = new List<EngineEvent>();
        foreach (var item in items)
        {
            var read = CloudTrailReader.Read(item.Line);
            for (var i = 0; i < read.Events.Count; i++)
            {
                if (read.Events[i].TimestampMs > notAfter)
                {
                    var reason = $"record time is more than Ingest:MaxFutureSkewSeconds ({skewSeconds}) ahead of the silo clock";
                    letters.Add(new DeadLetter(0, now, source + ":" + CloudTrailFormat, wholeBody ? i + 1 : item.Number + 1, reason, []));
                    rejected.TryAdd(wholeBody ? i : item.Number, reason);
                    refusedRecords++;
                    continue;
                }

                taken.Add(EngineEvent.From(read.Events[i]));
                accepted++;
            }

            foreach (var e in read.Errors)
            {
                letters.Add(new DeadLetter(0, now, source + ":" + CloudTrailFormat, wholeBody ? e.Index + 1 : item.Number + 1, e.Reason, []));
                rejected.TryAdd(wholeBody ? e.Index : item.Number, e.Reason);
                refusedRecords++;
            }
        }

        AddWithoutTokens(taken.ToArray(), events, tokens);
        return new FormatTally(CloudTrailFormat, accepted, refusedRecords);
    }
}
