using System.Diagnostics.Metrics;
using System.Text;
using AnomalyZT.Silo.Siem.Encoders;
using AnomalyZT.Silo.Siem.Sinks;
using AnomalyZT.Silo.State;

namespace AnomalyZT.Silo.Siem;

/// <summary>What a sink's worker reports about itself.</summary>
/// <param name="Name">Sink name.</param>
/// <param name="Type">Sink type.</param>
/// <param name="Format">Encoding.</param>
/// <param name="Cursor">Last record position delivered (or skipped by the filters).</param>
/// <param name="Lag">Records stored but not yet delivered.</param>
/// <param name="Delivered">Records delivered since start.</param>
/// <param name="Filtered">Records skipped by the filters since start.</param>
/// <param name="Retries">Failed sends since start.</param>
/// <param name="Healthy">False while the last send failed.</param>
/// <param name="LastError">Why the last send failed, or null.</param>
/// <param name="LastDeliveryAt">When records were last delivered.</param>
public sealed record SinkHealth(
    string Name, string Type, string Format, long Cursor, long Lag, long Delivered, long Filtered, long Retries, bool Healthy, string? LastError,
    DateTimeOffset? LastDeliveryAt);

/// <summary>Follows the record stream for one sink: reads after its durable cursor, filters, encodes, sends, and moves
/// the cursor only past what the sink confirmed (at least once: after a crash or an outage the rest is sent again;
/// receivers dedupe on the record ids). A failing sink is retried with capped exponential back-off, forever: records
/// are never dropped.</summary>
public sealed partial class SinkWorker : IAsyncDisposable
{
    private readonly IRecordStore _store;
    private readonly IRecordSink _sink;
    private readonly ISiemEncoder _encoder;
    private readonly SiemSinkOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Counter<long> _delivered;
    private readonly Counter<long> _retried;
    private readonly string _cursorName;
    private long _cursor = -1;
    private long _deliveredTotal;
    private long _filteredTotal;
    private long _retries;
    private long _latest;
    private string? _lastError;
    private DateTimeOffset? _lastDelivery;
    private TimeSpan _backoff = TimeSpan.Zero;

    /// <summary>Creates the worker of <paramref name="sink"/>.</summary>
    public SinkWorker(IRecordStore store, IRecordSink sink, ISiemEncoder encoder, SiemSinkOptions options, TimeProvider time, SiemMetrics metrics, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(sink);
        ArgumentNullException.ThrowIfNull(metrics);
        _store = store;
        _sink = sink;
        _encoder = encoder;
        _options = options;
        _time = time;
        _logger = logger;
        _cursorName = "sink:" + sink.Name;
        _delivered = metrics.Delivered;
        _retried = metrics.Retried;
        metrics.Watch(this);
    }

    /// <summary>The sink's name.</summary>
    public string Name => _sink.Name;

    /// <summary>How long to wait before the next try (zero when healthy).</summary>
    public TimeSpan Backoff => _backoff;

    /// <summary>The sink's state now.</summary>
    public SinkHealth Health => new(
        _sink.Name, _options.Type, _encoder.Format, _cursor, Math.Max(0, _latest - _cursor), Interlocked.Read(ref _deliveredTotal),
        Interlocked.Read(ref _filteredTotal), Interlocked.Read(ref _retries), _lastError is null, _lastError, _lastDelivery);

    /// <summary>Re-reads the cursor from the store at the next run (this silo became the leader).</summary>
    public void Reset() => _cursor = -1;

    /// <summary>Sends everything stored after the cursor, batch by batch, until caught up or a send fails; returns the
    /// number of records delivered.</summary>
    public async Task<int> RunOnceAsync(CancellationToken ct)
    {
        if (_cursor < 0)
        {
            _cursor = await _store.CursorAsync(_cursorName, ct).ConfigureAwait(false);
        }

        _latest = await _store.LatestRecordSeqAsync(ct).ConfigureAwait(false);
        var total = 0;
        var minimum = _options.MinimumSeverity;
        while (true)
        {
            var stored = await _store.RecordsAfterAsync(_cursor, _options.BatchSize, ct).ConfigureAwait(false);
            if (stored.Count == 0)
            {
                return total;
            }

            var batch = new List<EncodedRecord>(stored.Count);
            foreach (var s in stored)
            {
                var r = s.Record;
                if (r.Severity < minimum || (_options.Kinds.Count > 0 && !_options.Kinds.Contains(r.Kind.ToString().ToLowerInvariant())))
                {
                    continue;
                }

                var text = _encoder.Encode(r);
                batch.Add(new EncodedRecord(s.Seq, r.Id, DateTimeOffset.FromUnixTimeMilliseconds(r.TimeMs), SiemFormats.SyslogSeverity(r.Severity),
                    r.Kind.ToString().ToLowerInvariant(), Encoding.UTF8.GetBytes(text)));
            }

            var result = batch.Count == 0 ? new SinkResult(0, null) : await _sink.SendAsync(batch, ct).ConfigureAwait(false);
            var delivered = Math.Clamp(result.Delivered, 0, batch.Count);
            // Move past what was confirmed, and past filtered records before the first unconfirmed one.
            var next = result.Error is null ? stored[^1].Seq : (delivered < batch.Count ? batch[delivered].Seq - 1 : stored[^1].Seq);
            if (next > _cursor)
            {
                await _store.SetCursorAsync(_cursorName, next, ct).ConfigureAwait(false);
                Interlocked.Add(ref _filteredTotal, stored.Count(s => s.Seq <= next) - delivered);
                _cursor = next;
            }

            if (delivered > 0)
            {
                Interlocked.Add(ref _deliveredTotal, delivered);
                _delivered.Add(delivered, new KeyValuePair<string, object?>("sink", _sink.Name));
                _lastDelivery = _time.GetUtcNow();
                total += delivered;
            }

            if (result.Error is not null)
            {
                Interlocked.Increment(ref _retries);
                _retried.Add(1, new KeyValuePair<string, object?>("sink", _sink.Name));
                if (_lastError is null)
                {
                    LogFailing(_sink.Name, result.Error);
                }

                _lastError = result.Error;
                _backoff = _backoff == TimeSpan.Zero ? TimeSpan.FromMilliseconds(200) : TimeSpan.FromTicks(Math.Min(_backoff.Ticks * 2, _options.MaxBackoff.Ticks));
                return total;
            }

            if (_lastError is not null)
            {
                LogRecovered(_sink.Name);
            }

            _lastError = null;
            _backoff = TimeSpan.Zero;
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _sink.DisposeAsync();

    [LoggerMessage(EventId = 5001, Level = LogLevel.Warning, Message = "SIEM sink {Sink} is failing, records wait in the store: {Error}")]
    private partial void LogFailing(string sink, string error);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Information, Message = "SIEM sink {Sink} delivers again")]
    private partial void LogRecovered(string sink);
}
