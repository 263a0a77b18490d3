using AnomalyZT.Grains.Interfaces;

namespace AnomalyZT.Ingest.Flows;

/// <summary>Whether a datagram was well formed.</summary>
public enum FlowDatagramStatus
{
    /// <summary>Header, every set and every record were well formed.</summary>
    Accepted = 0,

    /// <summary>Something was malformed; <see cref="FlowDecodeResult.Reason"/> says what was found first. Flows
    /// from the well-formed sets before and after the problem (where the set boundaries could be trusted) are
    /// still returned.</summary>
    Rejected = 1,
}

/// <summary>What decoding one exporter datagram produced.</summary>
public readonly struct FlowDecodeResult
{
    internal FlowDecodeResult(IReadOnlyList<FlowEvent> events, in FlowDecodeCounters counters, int version, string? reason)
    {
        Events = events;
        Counters = counters;
        Version = version;
        Reason = reason;
    }

    /// <summary><see cref="FlowDatagramStatus.Rejected"/> when <see cref="Reason"/> is set.</summary>
    public FlowDatagramStatus Status => Reason is null ? FlowDatagramStatus.Accepted : FlowDatagramStatus.Rejected;

    /// <summary>The first problem found, or null when the datagram was well formed.</summary>
    public string? Reason { get; }

    /// <summary>Export format version from the header: 5, 9 or 10 (IPFIX); 0 when it could not be read.</summary>
    public int Version { get; }

    /// <summary>The list the flows were appended to (the caller's list when one was given; it may hold earlier
    /// items); <see cref="FlowDecodeCounters.Flows"/> says how many this call added.</summary>
    public IReadOnlyList<FlowEvent> Events { get; }

    /// <summary>What this call did.</summary>
    public FlowDecodeCounters Counters { get; }
}

/// <summary>Counts for one datagram, or summed over a decoder's life (<see cref="FlowPacketDecoder.Totals"/>).</summary>
public struct FlowDecodeCounters
{
    /// <summary>Datagrams that were well formed.</summary>
    public long DatagramsAccepted { get; set; }

    /// <summary>Datagrams that were not (see <see cref="FlowDecodeResult.Reason"/>).</summary>
    public long DatagramsRejected { get; set; }

    /// <summary>Flow events produced (including those from replayed buffered sets).</summary>
    public long Flows { get; set; }

    /// <summary>Data records decoded that gave no flow: options data records, and records with no source or
    /// destination address.</summary>
    public long RecordsSkipped { get; set; }

    /// <summary>Data records that overran their set (the rest of that set is skipped).</summary>
    public long MalformedRecords { get; set; }

    /// <summary>Templates and options templates learned or redefined.</summary>
    public long TemplatesLearned { get; set; }

    /// <summary>Templates withdrawn (IPFIX withdrawal records).</summary>
    public long TemplatesWithdrawn { get; set; }

    /// <summary>Templates not stored because a cache bound was reached, or that were malformed.</summary>
    public long TemplatesRefused { get; set; }

    /// <summary>Data sets held because their template had not arrived yet.</summary>
    public long SetsBuffered { get; set; }

    /// <summary>Buffered data sets decoded once their template arrived.</summary>
    public long SetsReplayed { get; set; }

    /// <summary>Data sets dropped: evicted (oldest first) from a full buffer, or refused by a full buffer.</summary>
    public long SetsDropped { get; set; }

    /// <summary>Sets with a reserved set id, ignored.</summary>
    public long SetsIgnored { get; set; }

    /// <summary>Work units spent (one per set, template field and record field); bounded by the datagram length
    /// plus the replayed sets, never above <see cref="FlowPacketDecoder.MaxStepsPerDatagram"/>.</summary>
    public long Steps { get; set; }

    internal void Add(in FlowDecodeCounters o)
    {
        DatagramsAccepted += o.DatagramsAccepted;
        DatagramsRejected += o.DatagramsRejected;
        Flows += o.Flows;
        RecordsSkipped += o.RecordsSkipped;
        MalformedRecords += o.MalformedRecords;
        TemplatesLearned += o.TemplatesLearned;
        TemplatesWithdrawn += o.TemplatesWithdrawn;
        TemplatesRefused += o.TemplatesRefused;
        SetsBuffered += o.SetsBuffered;
        SetsReplayed += o.SetsReplayed;
        SetsDropped += o.SetsDropped;
        SetsIgnored += o.SetsIgnored;
        Steps += o.Steps;
    }
}
