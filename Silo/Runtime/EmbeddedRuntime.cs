using System.Buffers;
using AnomalyZT.Grains.Config;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Grains.Runtime;
using AnomalyZT.Silo.State;
using Microsoft.Extensions.Logging;

namespace AnomalyZT.Silo.Runtime;

/// <summary>In-process partitions: a bounded queue and one worker each. The default runtime of a single silo.</summary>
/// <remarks>The event-time clock is global: after each admitted batch the newest event time is announced to every
/// partition in-band (a tick behind the batch's events), so quiet partitions close their buckets too, and a
/// single-producer replay is deterministic.</remarks>
public sealed partial class EmbeddedRuntime : IGrainRuntime
{
    private readonly PartitionWorker[] _workers;
    private readonly EventRouter _router;
    private readonly IStateStore? _store;
    private readonly Func<IReadOnlyList<Finding>, ValueTask>? _onFindings;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly TimeSpan _checkpointInterval;
    private readonly Task[] _running;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _dispatchLock = new();
    private Task? _checkpointLoop;
    private long _announcedHighWaterMs = long.MinValue;
    private int _state; // 0 new, 1 running, 2 stopped

    /// <summary>Creates the runtime. <paramref name="store"/> may be null (replay without persistence);
    /// <paramref name="onFindings"/> sees every finding once its checkpoint is committed.</summary>
    public EmbeddedRuntime(
        EmbeddedRuntimeOptions options,
        DetectionConfig config,
        IStateStore? store,
        Func<IReadOnlyList<Finding>, ValueTask>? onFindings,
        RuntimeMetrics metrics,
        TimeProvider time,
        ILogger<EmbeddedRuntime> logger)
    {
        if (options.Partitions is < 1 or > 4096)
        {
            throw new ArgumentOutOfRangeException(nameof(options), $"Runtime:Partitions is {options.Partitions}; it must be from 1 to 4096");
        }

        Config = config;
        Metrics = metrics;
        _store = store;
        _onFindings = onFindings;
        _time = time;
        _logger = logger;
        _checkpointInterval = options.CheckpointInterval;
        MaxGrainsPerPartition = options.MaxGrainsPerPartition;
        _router = new EventRouter(new NodeInventory(options.Inventory));
        _workers = new PartitionWorker[options.Partitions];
        for (var i = 0; i < _workers.Length; i++)
        {
            _workers[i] = new PartitionWorker(new Partition(i, config), this, options.QueueCapacity);
        }

        _running = new Task[_workers.Length];
        metrics.ObserveQueues(this);
    }

    /// <summary>Detection config in force.</summary>
    public DetectionConfig Config { get; private set; }

    /// <inheritdoc />
    public int PartitionCount => _workers.Length;

    /// <inheritdoc />
    public bool IsRunning => Volatile.Read(ref _state) == 1;

    internal RuntimeMetrics Metrics { get; }

    internal bool Persistent => _store is not null;

    internal int MaxGrainsPerPartition { get; }

    internal Task<GrainSnapshot?> LoadSnapshotAsync(EntityKey key) => _store!.LoadSnapshotAsync(key, CancellationToken.None);

    internal long NowMs => _time.GetUtcNow().ToUnixTimeMilliseconds();

    internal IEnumerable<(int Partition, int Depth, long LagMs, int Grains)> QueueStates()
    {
        foreach (var w in _workers)
        {
            var p = w.Partition;
            var lag = p.WatermarkMs == long.MinValue ? 0 : Math.Max(0, NowMs - p.WatermarkMs);
            yield return (p.Index, w.Depth, lag, p.GrainCount);
        }
    }

    /// <inheritdoc />
    public async Task StartAsync(CancellationToken ct)
    {
        if (Volatile.Read(ref _state) != 0)
        {
            throw new InvalidOperationException("the runtime was already started");
        }

        if (_store is not null)
        {
            await RestoreAsync(_store, ct).ConfigureAwait(false);
        }

        for (var i = 0; i < _workers.Length; i++)
        {
            _running[i] = Task.Run(_workers[i].RunAsync, CancellationToken.None);
        }

        // Running only once the workers exist: nothing is admitted into queues no one drains.
        Volatile.Write(ref _state, 1);
        if (_store is not null && _checkpointInterval > TimeSpan.Zero)
        {
            _checkpointLoop = CheckpointLoopAsync(_stopping.Token);
        }
    }

    private async Task RestoreAsync(IStateStore store, CancellationToken ct)
    {
        // Snapshots are routed by key, and every stored partition is read, so a changed partition count loses nothing.
        var restored = 0;
        var failed = 0;
        var stored = await store.MaxSnapshotPartitionAsync(ct).ConfigureAwait(false);
        for (var p = 0; p <= Math.Max(stored, _workers.Length - 1); p++)
        {
            foreach (var snapshot in await store.LoadSnapshotsAsync(p, ct).ConfigureAwait(false))
            {
                try
                {
                    _workers[snapshot.Key.Partition(_workers.Length)].Partition.Restore(snapshot.Key, snapshot.Data);
                    restored++;
                }
                catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException or ArgumentException or FormatException)
                {
                    // One unreadable grain must not keep the engine down: it starts fresh, and the bytes are kept.
                    failed++;
                    LogSnapshotUnreadable(snapshot.Key.ToString(), ex);
                    await store.CommitAsync(new Checkpoint([], [], [new DeadLetter(0, NowMs, "snapshot:" + snapshot.Key, 0,
                        "grain state could not be read and was reset: " + ex.Message, snapshot.Data)]), ct).ConfigureAwait(false);
                }
            }
        }

        LogRestored(restored, _workers.Length, failed);
    }

    /// <inheritdoc />
    public DispatchResult TryDispatch(ReadOnlySpan<EngineEvent> events, IReadOnlyList<DeadLetter> deadLetters)
    {
        if (!IsRunning)
        {
            return new DispatchResult(false, 0, 0, TimeSpan.FromSeconds(5));
        }

        var routed = ArrayPool<RoutedEvent>.Shared.Rent(Math.Max(2, events.Length * 2));
        var counts = ArrayPool<int>.Shared.Rent(_workers.Length);
        try
        {
            Array.Clear(counts, 0, _workers.Length);
            var n = 0;
            var unattributed = 0;
            var high = long.MinValue;
            foreach (ref readonly var e in events)
            {
                var k = _router.Route(e, routed.AsSpan(n, 2));
                if (k == 0)
                {
                    unattributed++;
                }

                for (var j = n; j < n + k; j++)
                {
                    counts[routed[j].Key.Partition(_workers.Length)]++;
                }

                n += k;
                high = Math.Max(high, e.TimestampMs);
            }

            // Reserve every partition's share or none: a refused batch leaves no trace, so the shipper's retry
            // of the whole body cannot double-count. Each share includes the batch's clock tick, so a partition that
            // falls behind refuses work instead of collecting ticks without bound.
            for (var p = 0; p < _workers.Length; p++)
            {
                if (!_workers[p].TryReserve(counts[p] + 1))
                {
                    for (var q = 0; q < p; q++)
                    {
                        _workers[q].Unreserve(counts[q] + 1);
                    }

                    Metrics.Refused(events.Length);
                    return new DispatchResult(false, 0, 0, TimeSpan.FromSeconds(1));
                }
            }

            // One batch at a time enqueues, so its tick follows all of its events in every queue; and no batch is
            // enqueued after StopAsync completed the queues (it takes the same lock).
            lock (_dispatchLock)
            {
                if (!IsRunning)
                {
                    for (var p = 0; p < _workers.Length; p++)
                    {
                        _workers[p].Unreserve(counts[p] + 1);
                    }

                    return new DispatchResult(false, 0, 0, TimeSpan.FromSeconds(5));
                }

                for (var j = 0; j < n; j++)
                {
                    _workers[routed[j].Key.Partition(_workers.Length)].Post(new Message(MessageKind.Event, routed[j]));
                }

                if (deadLetters.Count > 0)
                {
                    // Rejected lines ride with the batch: durable with the same checkpoints, retried like them.
                    _workers[(int)((uint)Environment.CurrentManagedThreadId % (uint)_workers.Length)].Post(new Message(MessageKind.DeadLetters, Letters: deadLetters));
                }

                // Every batch ends with a tick in every queue (a no-op where the clock did not move), so the tick
                // always follows the batch's events and the reservation above is always consumed.
                _announcedHighWaterMs = Math.Max(_announcedHighWaterMs, high);
                foreach (var w in _workers)
                {
                    w.Post(new Message(MessageKind.Tick, Value: _announcedHighWaterMs));
                }
            }

            return new DispatchResult(true, n, unattributed, TimeSpan.Zero);
        }
        finally
        {
            Array.Clear(routed, 0, Math.Min(routed.Length, (events.Length * 2) + 2)); // only what this call could have written
            ArrayPool<RoutedEvent>.Shared.Return(routed);
            ArrayPool<int>.Shared.Return(counts);
        }
    }

    /// <inheritdoc />
    public Task FlushAsync(CancellationToken ct) => BroadcastAsync(MessageKind.Flush, ct);

    /// <inheritdoc />
    public Task CloseAllAsync(CancellationToken ct) => BroadcastAsync(MessageKind.CloseAll, ct);

    /// <inheritdoc />
    public Task<EntityView?> DescribeAsync(EntityKey key, CancellationToken ct)
    {
        var reply = new TaskCompletionSource<EntityView?>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_dispatchLock)
        {
            EnsureRunning();
            _workers[key.Partition(_workers.Length)].Post(new Message(MessageKind.Describe, new RoutedEvent(key, default, default), Describe: reply));
        }

        return reply.Task.WaitAsync(ct);
    }

    /// <inheritdoc />
    public async Task ReconfigureAsync(DetectionConfig config, CancellationToken ct)
    {
        await BroadcastAsync(MessageKind.Reconfigure, ct, config).ConfigureAwait(false);
        Config = config;
    }

    private async Task BroadcastAsync(MessageKind kind, CancellationToken ct, DetectionConfig? config = null)
    {
        var waits = new Task[_workers.Length];
        lock (_dispatchLock)
        {
            EnsureRunning();
            for (var i = 0; i < _workers.Length; i++)
            {
                var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _workers[i].Post(new Message(kind, Done: done, Config: config));
                waits[i] = done.Task;
            }
        }

        await Task.WhenAll(waits).WaitAsync(ct).ConfigureAwait(false);
    }

    private void EnsureRunning()
    {
        if (!IsRunning)
        {
            throw new InvalidOperationException("the engine is not running (starting or stopping)");
        }
    }

    private async Task CheckpointLoopAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(_checkpointInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
            {
                lock (_dispatchLock)
                {
                    if (!IsRunning)
                    {
                        return;
                    }

                    foreach (var w in _workers)
                    {
                        w.Post(new Message(MessageKind.Checkpoint));
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
            // stopping
        }
    }

    internal async ValueTask CommitAsync(Checkpoint checkpoint)
    {
        if (_store is not null)
        {
            await _store.CommitAsync(checkpoint, CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>Tells observers about committed findings. Their failures are logged, never retried: the findings
    /// are already durable and served by the API.</summary>
    internal async ValueTask NotifyAsync(IReadOnlyList<Finding> findings)
    {
        if (findings.Count == 0)
        {
            return;
        }

        Metrics.Findings(findings);
        if (_onFindings is null)
        {
            return;
        }

        try
        {
            await _onFindings(findings).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            LogNotifyFailed(findings.Count, ex);
        }
    }

    /// <inheritdoc />
    public async Task StopAsync(CancellationToken ct)
    {
        lock (_dispatchLock)
        {
            if (Interlocked.CompareExchange(ref _state, 2, 1) != 1)
            {
                return;
            }
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_running[0] is null)
        {
            return; // never started its workers
        }

        if (_checkpointLoop is not null)
        {
            await _checkpointLoop.ConfigureAwait(false);
        }

        foreach (var w in _workers)
        {
            w.Complete();
        }

        await Task.WhenAll(_running).WaitAsync(ct).ConfigureAwait(false);
        LogStopped(_workers.Length);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        _stopping.Dispose();
    }

    internal void LogWorkerError(int partition, MessageKind kind, Exception ex) => LogWorkerFailure(partition, kind.ToString(), ex);

    internal void LogCheckpointFailure(int partition, Exception ex) => LogCheckpointFailed(partition, ex);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Error, Message = "Could not write {Count} committed findings to the alert file; they stay in the store and on the API")]
    private partial void LogNotifyFailed(int count, Exception ex);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Error, Message = "Partition {Partition} could not commit its checkpoint; it keeps the state and retries at the next one")]
    private partial void LogCheckpointFailed(int partition, Exception ex);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "Restored {Grains} grains into {Partitions} partitions ({Failed} unreadable, reset)")]
    private partial void LogRestored(int grains, int partitions, int failed);

    [LoggerMessage(EventId = 3006, Level = LogLevel.Error, Message = "State of {Entity} could not be read; the grain starts fresh and the bytes are dead-lettered")]
    private partial void LogSnapshotUnreadable(string entity, Exception ex);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Information, Message = "Stopped {Partitions} partitions after a final checkpoint")]
    private partial void LogStopped(int partitions);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Error, Message = "Partition {Partition} failed handling a {Kind} message; it goes on")]
    private partial void LogWorkerFailure(int partition, string kind, Exception ex);
}
