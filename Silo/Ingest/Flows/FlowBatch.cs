using System.Runtime.InteropServices;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Ingest.Flows;
using AnomalyZT.Silo.State;

namespace AnomalyZT.Silo.Receivers.Flows;

/// <summary>Flows and dead letters waiting to be dispatched together, with how many flows and letters each shipper
/// and format contributed, so the outcome is counted where it came from: flows as accepted or refused, letters as
/// rejected (stored as dead letters) or refused (not stored either). Reused after dispatch; the letters list is not,
/// because the runtime keeps it.</summary>
internal sealed class FlowBatch(int capacity)
{
    /// <summary>Dead letters one batch holds at most (each keeps up to 512 bytes of its datagram), so a source sending
    /// only malformed datagrams fills batches as fast as one sending flows, and back-pressure bounds both alike.</summary>
    public const int MaxLetters = 256;

    private EngineEvent[] _events = new EngineEvent[Math.Max(capacity, 64)];
    private Tally[] _tallies = new Tally[4];
    private int _tallyCount;
    private List<DeadLetter>? _letters;

    /// <summary>Flows held.</summary>
    public int Count { get; private set; }

    /// <summary>Dead letters held.</summary>
    public int LetterCount => _letters?.Count ?? 0;

    /// <summary>True when there is nothing to send.</summary>
    public bool IsEmpty => Count == 0 && _letters is null;

    /// <summary>True when the batch must be sent: its flows and letters together reach <paramref name="maxBatch"/>,
    /// or its letters reach <see cref="MaxLetters"/>.</summary>
    public bool IsFull(int maxBatch) => Count + LetterCount >= maxBatch || LetterCount >= MaxLetters;

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

        AddTally(shipper, format, flows.Count, letter is null ? 0 : 1);
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
    }

    /// <summary>Counts every shipper's flows as accepted and its malformed datagrams as rejected when the batch was
    /// admitted; both as refused when it was not (the dead letters of a refused batch are not stored).</summary>
    public void CountOutcome(ReceiverStats stats, string receiver, bool admitted)
    {
        for (var i = 0; i < _tallyCount; i++)
        {
            ref var t = ref _tallies[i];
            if (admitted)
            {
                stats.Count(receiver, t.Shipper, t.Format, t.Flows, rejected: t.Letters);
            }
            else
            {
                stats.Count(receiver, t.Shipper, t.Format, 0, refused: t.Flows + t.Letters);
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

    private void AddTally(string shipper, string format, int flows, int letters)
    {
        // Few shippers and formats per batch: a linear scan beats hashing (the names are usually the same instances).
        for (var i = 0; i < _tallyCount; i++)
        {
            ref var t = ref _tallies[i];
            if (string.Equals(t.Shipper, shipper, StringComparison.Ordinal) && string.Equals(t.Format, format, StringComparison.Ordinal))
            {
                t.Flows += flows;
                t.Letters += letters;
                return;
            }
        }

        if (_tallyCount == _tallies.Length)
        {
            Array.Resize(ref _tallies, _tallies.Length * 2);
        }

        _tallies[_tallyCount++] = new Tally { Shipper = shipper, Format = format, Flows = flows, Letters = letters };
    }

    private struct Tally
    {
        public string Shipper;
        public string Format;
        public long Flows;
        public long Letters;
    }
}
