using System.Diagnostics;
using System.IO.Pipelines;
using System.Text.Json;
using AnomalyZT.Grains.Config;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Grains.Runtime;
using AnomalyZT.Ingest;
using AnomalyZT.Silo.Api;
using AnomalyZT.Silo.Runtime;
using Microsoft.Extensions.Logging.Abstractions;

namespace AnomalyZT.Silo.Cli;

/// <summary>Counts of one replay.</summary>
/// <param name="Lines">Lines read.</param>
/// <param name="Accepted">Records accepted.</param>
/// <param name="Rejected">Records rejected.</param>
/// <param name="Events">Events dispatched to grains.</param>
/// <param name="Findings">Findings produced.</param>
/// <param name="Seconds">Wall time of parse + score.</param>
/// <param name="ParseSeconds">Of which reading and parsing the files.</param>
internal readonly record struct ReplaySummary(long Lines, long Accepted, long Rejected, long Events, int Findings, double Seconds, double ParseSeconds);

/// <summary>Runs the engine's pipeline over files on event time, without HTTP or persistence, and returns the
/// findings in a deterministic order. Events of all inputs are merged by event time (stable), as shippers
/// feeding a live silo would interleave them.</summary>
internal static class ReplayCommand
{
    private const int DefaultBatchSize = 4096;

    public static async Task<(List<Finding> Findings, ReplaySummary Summary)> RunAsync(
        IReadOnlyList<(string Path, string Format)> inputs,
        DetectionConfig config,
        IReadOnlyList<InventoryEntry> inventory,
        int partitions,
        TextWriter diagnostics,
        CancellationToken ct,
        int batchSize = DefaultBatchSize)
    {
        var started = Stopwatch.GetTimestamp();
        var decoder = new LineDecoder(new IngestOptions { MaxBodyBytes = long.MaxValue });
        using var events = new PooledList<EngineEvent>();
        long lines = 0, accepted = 0, rejected = 0;
        foreach (var (path, format) in inputs)
        {
            await using var file = File.OpenRead(path);
            var reader = LineDecoder.OpenBody(file, InputFiles.IsGzip(path));
            var summary = await decoder.DecodeAsync(reader, format, batch =>
            {
                events.AddRange(batch.Events);
                foreach (var error in batch.Rejected)
                {
                    diagnostics.WriteLine($"{Path.GetFileName(path)}:{error.LineNumber}: rejected: {error.Reason}");
                }

                return ValueTask.CompletedTask;
            }, DefaultBatchSize, ct).ConfigureAwait(false);
            lines += summary.Lines;
            accepted += summary.Accepted;
            rejected += summary.Rejected;
        }

        var parseSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var ordered = SortByTime(events.Span);
        var findings = new List<Finding>();
        using var metrics = new RuntimeMetrics(null);
        var options = new EmbeddedRuntimeOptions { Partitions = partitions, QueueCapacity = Math.Max(16, batchSize * 4), Inventory = [.. inventory] };
        await using var runtime = new EmbeddedRuntime(options, config, store: null, batch =>
        {
            lock (findings)
            {
                findings.AddRange(batch);
            }

            return ValueTask.CompletedTask;
        }, metrics, TimeProvider.System, NullLogger<EmbeddedRuntime>.Instance);
        await runtime.StartAsync(ct).ConfigureAwait(false);
        for (var i = 0; i < ordered.Length; i += batchSize)
        {
            var batch = ordered.AsSpan(i, Math.Min(batchSize, ordered.Length - i));
            if (!runtime.TryDispatch(batch, []).Admitted)
            {
                throw new InvalidOperationException("replay: a drained runtime refused a batch; this is a bug");
            }

            // Draining after every batch keeps memory bounded and the interleaving of ticks and events fixed.
            await runtime.FlushAsync(ct).ConfigureAwait(false);
        }

        await runtime.CloseAllAsync(ct).ConfigureAwait(false);
        await runtime.StopAsync(ct).ConfigureAwait(false);
        findings.Sort(CompareFindings);
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        return (findings, new ReplaySummary(lines, accepted, rejected, ordered.Length, findings.Count, seconds, parseSeconds));
    }

    public static void WriteJsonl(IReadOnlyList<Finding> findings, Stream output)
    {
        using var writer = new Utf8JsonWriter(output, new JsonWriterOptions { SkipValidation = true });
        foreach (var f in findings)
        {
            JsonSerializer.Serialize(writer, f, Serialization.AnomalyJsonContext.Default.Finding);
            writer.Flush();
            output.WriteByte((byte)'\n');
            writer.Reset();
        }
    }

    private static EngineEvent[] SortByTime(ReadOnlySpan<EngineEvent> events)
    {
        var keys = new (long Ts, int Seq)[events.Length];
        var items = events.ToArray();
        for (var i = 0; i < items.Length; i++)
        {
            keys[i] = (items[i].TimestampMs, i);
        }

        // The sequence number makes the sort stable: equal times keep input order.
        Array.Sort(keys, items);
        return items;
    }

    private static int CompareFindings(Finding a, Finding b)
    {
        var c = a.BucketStartMs.CompareTo(b.BucketStartMs);
        if (c == 0)
        {
            c = a.EntityKind.CompareTo(b.EntityKind);
        }

        if (c == 0)
        {
            c = string.CompareOrdinal(a.EntityId, b.EntityId);
        }

        if (c == 0)
        {
            c = string.CompareOrdinal(a.Detector, b.Detector);
        }

        return c == 0 ? string.CompareOrdinal(a.Feature, b.Feature) : c;
    }
}
