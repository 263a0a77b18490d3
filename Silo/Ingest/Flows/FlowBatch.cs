using System.Runtime.InteropServices;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Ingest.Flows;
using AnomalyZT.Silo.State;

namespace AnomalyZT.Silo.Receivers.Flows;

/// <summary>Flows and dead letters waiting to be dispatched together, with how many flows each shipper and format
/// contributed, so the outcome (accepted or refused) is counted where it came from. Reused after dispatch; the
/// letters list is not, because the runtime keeps it.</summary>
internal sealed class FlowBatch(int capacity)
{
    private EngineEvent[] _events = new EngineEvent[Math.Max(capacity, 64)];
    private Tally[] _tallies = new Tally[4];
    private int _tallyCount;
    private List<DeadLetter>? _letters;

    /// <summary>Flows held.</summary>
    public int Count { get; private set; }

    /// <summary>True when there is nothing to send.</summary>
    public bool IsEmpty => Count == 0 && _letters is null;

    /// <summary>The flows, as events.</summary>
    public ReadOnlyMemory<EngineEvent> Events => _events.AsMemory(0, Count);

    /// <summary>The dead letters (often none).</summary>
    public IReadOnlyList<DeadLetter> LettersOrEmpty => _letters is null ? [] : _letters;

    /// <summary>Appends one datagram's flows and its dead letter, if any.</summary>
    public void Add(List<FlowEvent> flows, string shipper, string format, DeadLetter? letter)
    {
        if (letter is not null)
        {
            (_letters ??= []).Add(letter);
        }

        if (flows.Count == 0)
        {
            return;
        }

        if (Count + flows.Count > _events.Length)
        {
            // One datagram can carry more flows than the batch has room for (a v9 datagram of tiny records).
            Array.Resize(ref _events, Math.Max(_events.Length * 2, Count + flows.Count));
        }

        foreach (ref readonly var flow in CollectionsMarshal.AsSpan(flows))
        {
            _events[Count++] = EngineEvent.From(flow);
        }

        AddTally(shipper, format, flows.Count);
    }

    /// <summary>Counts every shipper's flows as accepted or refused.</summary>
    public void CountOutcome(ReceiverStats stats, string receiver, bool admitted)
    {
        for (var i = 0; i < _tallyCount; i++)
        {
            ref var t = ref _tallies[i];
            if (admitted)
            {
                stats.Count(receiver, t.Shipper, t.Format, t.Flows);
            }
            else
            {
                stats.Count(receiver, t.Shipper, t.Format, 0, refused: t.Flows);
            }
        }
    }

    /// <summary>Empties the batch for reuse (drops references to event strings).</summary>
    public void Reset()
    {
        Array.Clear(_events, 0, Count);
        Array.Clear(_tallies, 0, _tallyCount);
        Count = 0;
        _tallyCount = 0;
        _letters = null;
    }

    private void AddTally(string shipper, string format, int flows)
    {
        // Few shippers and formats per batch: a linear scan beats hashing (the names are usually the same instances).
        for (var i = 0; i < _tallyCount; i++)
        {
            ref var t = ref _tallies[i];
            if (string.Equals(t.Shipper, shipper, StringComparison.Ordinal) && string.Equals(t.Format, format, StringComparison.Ordinal))
            {
                t.Flows += flows;
                return;
            }
        }

        if (_tallyCount == _tallies.Length)
        {
            Array.Resize(ref _tallies, _tallies.Length * 2);
        }

        _tallies[_tallyCount++] = new Tally { Shipper = shipper, Format = format, Flows = flows };
    }

    private struct Tally
    {
        public string Shipper;
        public string Format;
        public long Flows;
    }
}
