using System.Buffers;
using AnomalyZT.Grains.Interfaces;

namespace AnomalyZT.Ingest;

/// <summary>Up to one batch of decoded lines. The event array is pooled: the batch is valid only while the
/// <c>onBatch</c> callback runs (the decoder disposes it after the callback completes); copy what must outlive it.</summary>
public sealed class DecodedBatch : IDisposable
{
    private EngineEvent[]? _events;
    private readonly int _count;

    internal DecodedBatch(EngineEvent[] events, int count, IReadOnlyList<LineError> rejected, int accepted, int filtered, int controlLines, int firstLineNumber)
    {
        _events = events;
        _count = count;
        Rejected = rejected;
        Accepted = accepted;
        Filtered = filtered;
        ControlLines = controlLines;
        FirstLineNumber = firstLineNumber;
    }

    /// <summary>The events, in line order.</summary>
    public ReadOnlySpan<EngineEvent> Events => new(Live(), 0, _count);

    /// <summary>The same events as an <see cref="ArraySegment{T}"/>, for callers that cross an <c>await</c>.</summary>
    public ArraySegment<EngineEvent> EventSegment => new(Live(), 0, _count);

    /// <summary>Lines rejected since the previous batch, in line order.</summary>
    public IReadOnlyList<LineError> Rejected { get; }

    /// <summary>Lines accepted in this batch: the events plus the <see cref="Filtered"/> lines.</summary>
    public int Accepted { get; }

    /// <summary>Valid lines intentionally not scored (e.g. Kubernetes audit <c>RequestReceived</c>).</summary>
    public int Filtered { get; }

    /// <summary>Blank and header lines in this batch.</summary>
    public int ControlLines { get; }

    /// <summary>1-based number of the first line this batch covers.</summary>
    public int FirstLineNumber { get; }

    /// <summary>Returns the event array to the pool; later access to <see cref="Events"/> throws.</summary>
    public void Dispose()
    {
        var events = Interlocked.Exchange(ref _events, null);
        if (events is not null)
        {
            // Clear the used part so pooled arrays do not keep event strings alive.
            Array.Clear(events, 0, _count);
            ArrayPool<EngineEvent>.Shared.Return(events);
        }
    }

    private EngineEvent[] Live() => _events ?? throw new ObjectDisposedException(nameof(DecodedBatch));
}
