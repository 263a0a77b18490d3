using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace AnomalyZT.Silo.Receivers;

/// <summary>What one shipper sent one receiver in one format, since the silo started.</summary>
/// <param name="Receiver">The path or listener, e.g. <c>http:ingest</c>, <c>hec</c>, <c>syslog:tls</c>, <c>netflow</c>.</param>
/// <param name="Shipper">Who sent it: the API key's name, the TLS client's certificate name, or the allowlisted source's name.</param>
/// <param name="Format">The format the records were parsed as.</param>
/// <param name="Accepted">Records taken.</param>
/// <param name="Rejected">Records refused as malformed and dead-lettered.</param>
/// <param name="Limited">Records refused by the shipper's rate limit.</param>
/// <param name="Refused">Records refused because the engine's queues were full (the shipper is told to retry).</param>
/// <param name="Ignored">Records read and deliberately not turned into events (e.g. syslog lines that are not sshd auth).</param>
public sealed record ReceiverCount(string Receiver, string Shipper, string Format, long Accepted, long Rejected, long Limited, long Refused, long Ignored);

/// <summary>Counts of accepted, rejected, rate-limited, refused and ignored records by receiver, shipper and format:
/// the <c>GET /v1/receivers</c> answer and the <c>anomalyzt.receiver.records</c> counter (tags receiver, shipper,
/// format, outcome). Shipper names come from configuration (key names, certificate names, source names), so the
/// tag set stays bounded.</summary>
public sealed class ReceiverStats : IDisposable
{
    private readonly Meter _meter;
    private readonly Counter<long> _records;
    private readonly ConcurrentDictionary<(string Receiver, string Shipper, string Format), Cell> _cells = new();
    private readonly ConcurrentDictionary<string, Func<long?>> _kernelDrops = new(StringComparer.Ordinal);

    /// <summary>Creates the counters on a meter named <c>AnomalyZT.Silo</c>.</summary>
    public ReceiverStats(IMeterFactory? factory)
    {
        _meter = factory?.Create(Runtime.RuntimeMetrics.Name) ?? new Meter(Runtime.RuntimeMetrics.Name);
        _records = _meter.CreateCounter<long>("anomalyzt.receiver.records", "{record}", "Records by receiver, shipper, format and outcome (accepted, rejected, limited, refused, ignored)");
        _meter.CreateObservableCounter("anomalyzt.receiver.kernel_drops", ObserveKernelDrops, "{datagram}",
            "Datagrams the kernel dropped on a UDP receiver's socket because its receive buffer was full (no shipper can be named)");
    }

    /// <summary>Reports <paramref name="read"/> (datagrams the kernel dropped on a UDP socket) under
    /// <paramref name="receiver"/> in <c>anomalyzt.receiver.kernel_drops</c>.</summary>
    public void WatchKernelDrops(string receiver, Func<long?> read) => _kernelDrops[receiver] = read;

    /// <summary>Kernel drops so far per watched UDP receiver (receivers whose count cannot be read are left out).</summary>
    public IReadOnlyDictionary<string, long> KernelDrops()
    {
        var drops = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (receiver, read) in _kernelDrops)
        {
            if (read() is { } count)
            {
                drops[receiver] = count;
            }
        }

        return drops;
    }

    /// <summary>Adds one batch's outcome. Zero counts are not reported to the meter.</summary>
    public void Count(string receiver, string shipper, string format, long accepted, long rejected = 0, long limited = 0, long refused = 0, long ignored = 0)
    {
        var cell = _cells.GetOrAdd((receiver, shipper, format), static _ => new Cell());
        Add(ref cell.Accepted, accepted, receiver, shipper, format, "accepted");
        Add(ref cell.Rejected, rejected, receiver, shipper, format, "rejected");
        Add(ref cell.Limited, limited, receiver, shipper, format, "limited");
        Add(ref cell.Refused, refused, receiver, shipper, format, "refused");
        Add(ref cell.Ignored, ignored, receiver, shipper, format, "ignored");
    }

    /// <summary>Every receiver, shipper and format seen, ordered by receiver, shipper, format.</summary>
    public IReadOnlyList<ReceiverCount> Snapshot()
    {
        var rows = new List<ReceiverCount>(_cells.Count);
        foreach (var ((receiver, shipper, format), c) in _cells)
        {
            rows.Add(new ReceiverCount(receiver, shipper, format, Interlocked.Read(ref c.Accepted), Interlocked.Read(ref c.Rejected),
                Interlocked.Read(ref c.Limited), Interlocked.Read(ref c.Refused), Interlocked.Read(ref c.Ignored)));
        }

        rows.Sort(static (a, b) =>
        {
            var c = string.CompareOrdinal(a.Receiver, b.Receiver);
            c = c != 0 ? c : string.CompareOrdinal(a.Shipper, b.Shipper);
            return c != 0 ? c : string.CompareOrdinal(a.Format, b.Format);
        });
        return rows;
    }

    /// <summary>The totals of one receiver (every shipper and format).</summary>
    public ReceiverCount Total(string receiver)
    {
        long a = 0, r = 0, l = 0, f = 0, i = 0;
        foreach (var row in Snapshot())
        {
            if (row.Receiver == receiver)
            {
                a += row.Accepted;
                r += row.Rejected;
                l += row.Limited;
                f += row.Refused;
                i += row.Ignored;
            }
        }

        return new ReceiverCount(receiver, "*", "*", a, r, l, f, i);
    }

    /// <inheritdoc />
    public void Dispose() => _meter.Dispose();

    private IEnumerable<Measurement<long>> ObserveKernelDrops()
    {
        foreach (var (receiver, count) in KernelDrops())
        {
            yield return new Measurement<long>(count, new KeyValuePair<string, object?>("receiver", receiver));
        }
    }

    private void Add(ref long cell, long count, string receiver, string shipper, string format, string outcome)
    {
        if (count <= 0)
        {
            return;
        }

        Interlocked.Add(ref cell, count);
        _records.Add(count,
            new KeyValuePair<string, object?>("receiver", receiver),
            new KeyValuePair<string, object?>("shipper", shipper),
            new KeyValuePair<string, object?>("format", format),
            new KeyValuePair<string, object?>("outcome", outcome));
    }

    private sealed class Cell
    {
        public long Accepted;
        public long Rejected;
        public long Limited;
        public long Refused;
        public long Ignored;
    }
}
