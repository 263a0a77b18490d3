using System.Buffers;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Ingest.Syslog;
using AnomalyZT.Silo.State;

namespace AnomalyZT.Silo.Receivers.Syslog;

/// <summary>The messages one shipper sent one listener since the last dispatch: events, dead letters and per-format
/// counts. Parses and maps each message as it is added (the payload is not kept). Not thread-safe: one per connection,
/// or one per shipper on a datagram listener.</summary>
internal sealed class SyslogBatch
{
    /// <summary>Records (events and dead letters) at which a batch is dispatched without waiting for the socket to drain.</summary>
    public const int MaxRecords = 1024;

    private const int MaxLetterPayloadBytes = 2048;
    private const int FormatCount = 3;

    private static readonly string[] FormatNames = ["syslog", "rfc3164", "rfc5424"];

    private readonly SyslogListener _listener;
    private readonly SyslogMessageParser _parser;
    private readonly SshdAuthMapper _mapper = new();
    private readonly EngineEvent[] _events = new EngineEvent[MaxRecords];
    private readonly Counts[] _counts = new Counts[FormatCount];
    private List<DeadLetter>? _letters;
    private int _eventCount;

    public SyslogBatch(SyslogListener listener, string shipper)
    {
        _listener = listener;
        Shipper = shipper;
        _parser = new SyslogMessageParser(listener.Time, listener.Global.Rfc3164TimeZoneOffset);
    }

    /// <summary>Who sent the messages.</summary>
    public string Shipper { get; }

    /// <summary>Events and dead letters waiting for dispatch.</summary>
    public int Records => _eventCount + (_letters?.Count ?? 0);

    /// <summary>True when anything (even only ignored lines) waits to be dispatched or counted.</summary>
    public bool HasPending { get; private set; }

    /// <summary>True when the batch should be dispatched before reading more.</summary>
    public bool IsFull => Records >= MaxRecords;

    /// <summary>Parses, maps and adds one framed message.</summary>
    public void Add(in ReadOnlySequence<byte> message, long number)
    {
        if (message.IsSingleSegment)
        {
            Add(message.FirstSpan, number);
            return;
        }

        var length = (int)message.Length;
        var rented = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            message.CopyTo(rented);
            Add(rented.AsSpan(0, length), number);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Parses, maps and adds one message.</summary>
    public void Add(ReadOnlySpan<byte> message, long number)
    {
        HasPending = true;
        var parsed = _parser.Parse(message);
        if (parsed.Record is not { } record)
        {
            Letter(number, "syslog: " + parsed.Reason, message);
            _counts[0].Rejected++;
            return;
        }

        var format = record.Format == SyslogFormat.Rfc5424 ? 2 : 1;
        var mapped = _mapper.Map(record);
        if (mapped.Mapped)
        {
            _events[_eventCount++] = EngineEvent.From(mapped.Event);
            _counts[format].Accepted++;
        }
        else if (_listener.Global.NonAuthLines == SyslogNonAuthLines.DeadLetter)
        {
            Letter(number, "not an sshd authentication line: " + mapped.Reason, message);
            _counts[format].IgnoredLettered++;
        }
        else
        {
            _counts[format].Ignored++;
        }
    }

    /// <summary>Adds a message that could not even be framed (too long, bad octet count).</summary>
    public void AddRejected(string reason, long number, ReadOnlySpan<byte> payload = default)
    {
        HasPending = true;
        Letter(number, "syslog framing: " + reason, payload);
        _counts[0].Rejected++;
    }

    /// <summary>Dispatches what is pending, waits for rate limit and admission as the protocol allows, counts the
    /// outcome and empties the batch (only once the dispatch returned: one that throws leaves the batch as it was).
    /// Stream listeners pass <paramref name="giveUpAfter"/> null: wait (push back) until admitted. Returns false when
    /// the batch was refused (given up or cancelled).</summary>
    public async ValueTask<bool> DispatchAsync(TimeSpan? giveUpAfter, CancellationToken ct)
    {
        if (!HasPending)
        {
            return true;
        }

        var records = Records;
        var admitted = true;
        if (records > 0)
        {
            if (giveUpAfter is null)
            {
                while (!_listener.Limiter.TryAcquire(Shipper, records, out var retryAfter) && !ct.IsCancellationRequested)
                {
                    await DelayAsync(retryAfter, ct).ConfigureAwait(false);
                }
            }

            // Nothing is cleared before the dispatch returns: if it throws, the batch (dead letters included) stays
            // pending and the next dispatch sends it whole.
            IReadOnlyList<DeadLetter> letters = _letters is { Count: > 0 } l ? l : [];
            admitted = await _listener.Dispatcher.DispatchAsync(_events.AsMemory(0, _eventCount), letters, giveUpAfter, ct).ConfigureAwait(false);
        }

        _letters = null;

        for (var f = 0; f < FormatCount; f++)
        {
            ref var c = ref _counts[f];
            if (admitted)
            {
                _listener.Stats.Count(_listener.Receiver, Shipper, FormatNames[f], c.Accepted, c.Rejected, ignored: c.Ignored + c.IgnoredLettered);
            }
            else
            {
                _listener.Stats.Count(_listener.Receiver, Shipper, FormatNames[f], 0, refused: c.Accepted + c.Rejected + c.IgnoredLettered, ignored: c.Ignored);
            }

            c = default;
        }

        Array.Clear(_events, 0, _eventCount);
        _eventCount = 0;
        HasPending = false;
        return admitted;
    }

    private async Task DelayAsync(TimeSpan wait, CancellationToken ct)
    {
        try
        {
            await Task.Delay(wait, _listener.Time, ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // stopping hard: the dispatch below gives up at once and the batch is counted as refused
        }
    }

    private void Letter(long number, string reason, ReadOnlySpan<byte> payload)
    {
        var kept = payload.Length <= MaxLetterPayloadBytes ? payload : payload[..MaxLetterPayloadBytes];
        var line = number > int.MaxValue ? int.MaxValue : (int)number;
        (_letters ??= []).Add(new DeadLetter(0, _listener.Time.GetUtcNow().ToUnixTimeMilliseconds(), _listener.Receiver, line, reason, kept.ToArray()));
    }

    private struct Counts
    {
        public long Accepted;
        public long Rejected;
        public long Ignored;
        public long IgnoredLettered;
    }
}
