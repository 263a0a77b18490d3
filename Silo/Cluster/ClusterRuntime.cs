using System.Collections.Concurrent;
using AnomalyZT.Grains.Config;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Grains.Runtime;
using AnomalyZT.Silo.Cluster.Bus;
using AnomalyZT.Silo.Runtime;
using AnomalyZT.Silo.State;

namespace AnomalyZT.Silo.Cluster;

/// <summary>Several silos over RabbitMQ and PostgreSQL. Ingest on any silo routes a batch, writes its dead letters,
/// and publishes one message per partition with publisher confirms (so a 2xx means durable). Partition leases in
/// PostgreSQL decide which silo consumes which queue (single-active-consumer makes sure only one does, even during a
/// hand-over); every silo takes a fair share, renews it, and takes over partitions whose lease expired.</summary>
public sealed partial class ClusterRuntime : IGrainRuntime
{
    private readonly ConcurrentDictionary<int, ClusterPartitionWorker> _workers = new();
    private readonly EmbeddedRuntimeOptions _runtimeOptions;
    private readonly IStateStore _store;
    private readonly IClusterStore _cluster;
    private readonly IRecordStore _records;
    private readonly PartitionBus _bus;
    private readonly EventRouter _router;
    private readonly Func<IReadOnlyList<Finding>, ValueTask>? _onFindings;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _balance = new(1, 1);
    private readonly CancellationTokenSource _stopping = new();
    private Task? _loops;
    private long _tickedHighWaterMs = long.MinValue;
    private int _state;

    /// <summary>Creates the runtime; nothing connects until <see cref="StartAsync"/>.</summary>
    public ClusterRuntime(
        EmbeddedRuntimeOptions runtimeOptions,
        ClusterOptions options,
        DetectionConfig config,
        IStateStore store,
        IClusterStore cluster,
        IRecordStore records,
        PartitionBus bus,
        Func<IReadOnlyList<Finding>, ValueTask>? onFindings,
        RuntimeMetrics metrics,
        TimeProvider time,
        ILogger<ClusterRuntime> logger,
        Leadership? leadership = null)
    {
        ArgumentNullException.ThrowIfNull(runtimeOptions);
        Leadership = leadership ?? new Leadership();
        ArgumentNullException.ThrowIfNull(options);
        _runtimeOptions = runtimeOptions;
        Options = options;
        Config = config;
        _store = store;
        _cluster = cluster;
        _records = records;
        _bus = bus;
        _onFindings = onFindings;
        Metrics = metrics;
        _time = time;
        _logger = logger;
        SiloId = options.EffectiveSiloId;
        _router = new EventRouter(new NodeInventory(runtimeOptions.Inventory));
    }

    /// <summary>Whether this silo holds the leader lease (responder, executor, SIEM sinks run there only).</summary>
    public Leadership Leadership { get; }

    /// <summary>This silo's name in leases.</summary>
    public string SiloId { get; }

    /// <summary>Partitions this silo consumes now.</summary>
    public IReadOnlyCollection<int> OwnedPartitions => [.. _workers.Keys.Order()];

    /// <inheritdoc />
    public int PartitionCount => _runtimeOptions.Partitions;

    /// <inheritdoc />
    public bool IsRunning => Volatile.Read(ref _state) == 1;

    internal ClusterOptions Options { get; }

    /// <summary>The lease row of the leader: the one after the last partition.</summary>
    private int LeaderLease => PartitionCount;

    internal DetectionConfig Config { get; private set; }

    internal RuntimeMetrics Metrics { get; }

    internal long NowMs => _time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <inheritdoc />
    public async Task StartAsync(CancellationToken ct)
    {
        await _store.InitializeAsync(ct).ConfigureAwait(false);
        await _bus.ConnectAsync(ct).ConfigureAwait(false);
        await _bus.DeclareAsync(PartitionCount, ct).ConfigureAwait(false);
        await BalanceAsync(ct).ConfigureAwait(false);
        Volatile.Write(ref _state, 1);
        _loops = Task.WhenAll(BalanceLoopAsync(_stopping.Token), CheckpointLoopAsync(_stopping.Token));
        LogStarted(SiloId, _workers.Count, PartitionCount);
    }

    /// <inheritdoc />
    /// <remarks>Cluster ingest must wait for the broker's confirms: use <see cref="DispatchAsync"/>.</remarks>
    public DispatchResult TryDispatch(ReadOnlySpan<EngineEvent> events, IReadOnlyList<DeadLetter> deadLetters) =>
        throw new NotSupportedException("cluster mode admits batches only through DispatchAsync, which waits for the broker's confirms");

    /// <inheritdoc />
    public async ValueTask<DispatchResult> DispatchAsync(ReadOnlyMemory<EngineEvent> events, IReadOnlyList<DeadLetter> deadLetters, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(deadLetters);
        if (!IsRunning)
        {
            return new DispatchResult(false, 0, 0, TimeSpan.FromSeconds(5));
        }

        var byPartition = new Dictionary<int, List<RoutedEvent>>();
        var routed = new RoutedEvent[2];
        var unattributed = 0;
        var count = 0;
        var high = long.MinValue;
        foreach (var e in events.Span)
        {
            var k = _router.Route(e, routed);
            unattributed += k == 0 ? 1 : 0;
            for (var j = 0; j < k; j++)
            {
                var p = routed[j].Key.Partition(PartitionCount);
                if (!byPartition.TryGetValue(p, out var list))
                {
                    list = [];
                    byPartition[p] = list;
                }

                list.Add(routed[j]);
                count++;
            }

            high = Math.Max(high, e.TimestampMs);
        }

        var batchId = Guid.NewGuid().ToString("N");
        var messages = new List<(int Partition, ReadOnlyMemory<byte> Body, string BatchId)>(byPartition.Count);
        foreach (var (p, list) in byPartition)
        {
            var id = batchId + ":" + p.ToString(System.Globalization.CultureInfo.InvariantCulture);
            messages.Add((p, BatchCodec.Encode(new PartitionMessage(PartitionMessageKind.Events, id, high, list)), id));
        }

        // Quiet partitions' clocks move too, but only every TickSeconds of event time.
        var ticked = Volatile.Read(ref _tickedHighWaterMs);
        if (high != long.MinValue && (ticked == long.MinValue || high - ticked >= Options.TickSeconds * 1000L)
            && Interlocked.CompareExchange(ref _tickedHighWaterMs, high, ticked) == ticked)
        {
            for (var p = 0; p < PartitionCount; p++)
            {
                if (!byPartition.ContainsKey(p))
                {
                    var id = batchId + ":t" + p.ToString(System.Globalization.CultureInfo.InvariantCulture);
                    messages.Add((p, BatchCodec.Encode(new PartitionMessage(PartitionMessageKind.Tick, id, high, [])), id));
                }
            }
        }

        try
        {
            if (deadLetters.Count > 0)
            {
                await _store.CommitAsync(new Checkpoint([], [], deadLetters), ct).ConfigureAwait(false);
            }

            await _bus.PublishAsync(messages, ct).ConfigureAwait(false);
        }
        catch (BusException ex)
        {
            Metrics.Refused(events.Length);
            LogRefused(events.Length, ex.Message);
            return new DispatchResult(false, 0, 0, ex.RetryAfter);
        }

        return new DispatchResult(true, count, unattributed, TimeSpan.Zero);
    }

    /// <inheritdoc />
    public Task FlushAsync(CancellationToken ct)
    {
        foreach (var w in _workers.Values)
        {
            w.RequestCheckpoint();
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    /// <remarks>Every partition closes its buckets in queue order, wherever it is consumed; the call returns once all
    /// reported back through the store.</remarks>
    public async Task CloseAllAsync(CancellationToken ct)
    {
        var correlation = Guid.NewGuid().ToString("N");
        var messages = Enumerable.Range(0, PartitionCount).Select(p =>
        {
            var id = correlation + ":c" + p.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return (p, (ReadOnlyMemory<byte>)BatchCodec.Encode(new PartitionMessage(PartitionMessageKind.CloseAll, id, 0, [], correlation)), id);
        }).ToList();
        await _bus.PublishAsync(messages, ct).ConfigureAwait(false);
        for (var p = 0; p < PartitionCount; p++)
        {
            while (await _records.CursorAsync(ClosedCursor(correlation, p), ct).ConfigureAwait(false) == 0)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100), _time, ct).ConfigureAwait(false);
            }
        }
    }

    /// <inheritdoc />
    public async Task<EntityView?> DescribeAsync(EntityKey key, CancellationToken ct)
    {
        var p = key.Partition(PartitionCount);
        if (_workers.TryGetValue(p, out var worker))
        {
            return await worker.DescribeAsync(key).WaitAsync(ct).ConfigureAwait(false);
        }

        // Another silo owns it: its last checkpoint is at most Runtime:CheckpointInterval old.
        var snapshot = await _store.LoadSnapshotAsync(key, ct).ConfigureAwait(false);
        if (snapshot is null)
        {
            return null;
        }

        var scratch = new Partition(p, Config);
        scratch.Restore(key, snapshot.Data);
        return scratch.Describe(key);
    }

    /// <inheritdoc />
    public async Task ReconfigureAsync(DetectionConfig config, CancellationToken ct)
    {
        Config = config;
        await Task.WhenAll(_workers.Values.Select(w => w.ReconfigureAsync(config))).WaitAsync(ct).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task StopAsync(CancellationToken ct)
    {
        if (Interlocked.Exchange(ref _state, 2) != 1)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_loops is not null)
        {
            await _loops.ConfigureAwait(false);
        }

        // Graceful hand-over: final checkpoint and ack, then free the lease for the survivors.
        await _balance.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            foreach (var p in _workers.Keys.ToList())
            {
                await ReleaseAsync(p, ct).ConfigureAwait(false);
            }

            if (Leadership.IsLeader)
            {
                Leadership.Set(false);
                await _cluster.ReleaseLeaseAsync(LeaderLease, SiloId, ct).ConfigureAwait(false);
            }

            await _cluster.LeaveAsync(SiloId, ct).ConfigureAwait(false);
        }
        finally
        {
            _balance.Release();
        }

        LogStopped(SiloId);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        _stopping.Dispose();
        _balance.Dispose();
    }

    /// <summary>One balancing pass: heartbeat, renew, drop lost partitions, take a fair share, give back the excess.</summary>
    internal async Task BalanceAsync(CancellationToken ct)
    {
        await _balance.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var ttl = Options.LeaseTtl;
            await _cluster.HeartbeatAsync(SiloId, ttl, ct).ConfigureAwait(false);
            var held = (await _cluster.RenewLeasesAsync(SiloId, ttl, ct).ConfigureAwait(false)).ToDictionary(l => l.Partition);

            // The leader lease is the row after the last partition; whoever holds it runs the cluster-wide singletons.
            var leader = held.ContainsKey(LeaderLease) || await _cluster.TryAcquireLeaseAsync(LeaderLease, SiloId, ttl, ct).ConfigureAwait(false) is not null;
            if (leader != Leadership.IsLeader)
            {
                LogLeadership(SiloId, leader);
            }

            Leadership.Set(leader);
            held.Remove(LeaderLease);
            foreach (var p in _workers.Keys.Where(p => !held.ContainsKey(p)).ToList())
            {
                LogLost(p);
                Abandon(p);
            }

            var live = await _cluster.LiveSilosAsync(ct).ConfigureAwait(false);
            var silos = Math.Max(1, live.Count);
            var fair = (PartitionCount + silos - 1) / silos;
            var leases = (await _cluster.LeasesAsync(ct).ConfigureAwait(false)).Where(l => l.Partition < PartitionCount).ToDictionary(l => l.Partition);
            if (_workers.Count < fair)
            {
                // Free partitions first, spread so that silos starting together do not race for the same ones.
                var offset = (int)(new EntityKey(EntityKind.Node, SiloId).StableHash() % (ulong)PartitionCount);
                for (var i = 0; i < PartitionCount && _workers.Count < fair; i++)
                {
                    var p = (i + offset) % PartitionCount;
                    if (_workers.ContainsKey(p) || (leases.TryGetValue(p, out var l) && l.Held))
                    {
                        continue;
                    }

                    var lease = await _cluster.TryAcquireLeaseAsync(p, SiloId, ttl, ct).ConfigureAwait(false);
                    if (lease is not null)
                    {
                        await TakeAsync(p, lease.Epoch, ct).ConfigureAwait(false);
                    }
                }
            }
            else if (_workers.Count > fair)
            {
                // Give back the excess only when some live silo holds less than its share (it will take them).
                var counts = live.ToDictionary(s => s, _ => 0, StringComparer.Ordinal);
                foreach (var l in leases.Values.Where(l => l.Held))
                {
                    counts[l.Owner] = counts.GetValueOrDefault(l.Owner) + 1;
                }

                var hungry = counts.Where(c => c.Key != SiloId && c.Value < fair).Sum(c => fair - c.Value);
                foreach (var p in _workers.Keys.OrderDescending().Take(Math.Min(_workers.Count - fair, hungry)).ToList())
                {
                    await ReleaseAsync(p, ct).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            _balance.Release();
        }
    }

    internal async ValueTask CommitAsync(Checkpoint checkpoint) => await _store.CommitAsync(checkpoint, CancellationToken.None).ConfigureAwait(false);

    internal async ValueTask NotifyAsync(IReadOnlyList<Finding> findings)
    {
        if (findings.Count == 0)
        {
            return;
        }

        Metrics.Findings(findings);
        if (_onFindings is not null)
        {
            try
            {
                await _onFindings(findings).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                LogNotifyFailed(findings.Count, ex);
            }
        }
    }

    internal Task ReportClosedAsync(string correlation, int partition) =>
        _records.SetCursorAsync(ClosedCursor(correlation, partition), 1, CancellationToken.None);

    /// <summary>Drops a partition without a checkpoint (its lease is gone); the new owner replays the unacked tail.</summary>
    internal void Abandon(int partition)
    {
        if (_workers.TryRemove(partition, out var worker))
        {
            _ = Task.Run(async () => await worker.DisposeAsync().ConfigureAwait(false));
        }
    }

    internal void LogFenced(int partition, string reason) => LogLeaseFenced(partition, reason);

    internal void LogCheckpointFailed(int partition, Exception ex) => LogCheckpointFailure(partition, ex);

    private static string ClosedCursor(string correlation, int partition) =>
        "closeall:" + correlation + ":" + partition.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private async Task TakeAsync(int p, long epoch, CancellationToken ct)
    {
        var started = _time.GetTimestamp();
        var partition = new Partition(p, Config);
        foreach (var snapshot in await _store.LoadSnapshotsAsync(p, ct).ConfigureAwait(false))
        {
            try
            {
                partition.Restore(snapshot.Key, snapshot.Data);
            }
            catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException or ArgumentException or FormatException)
            {
                LogSnapshotUnreadable(snapshot.Key.ToString(), ex);
            }
        }

        var progress = await _cluster.LoadProgressAsync(p, ct).ConfigureAwait(false);
        var worker = new ClusterPartitionWorker(this, partition, epoch, progress?.AppliedBatchIds ?? [], _bus.Options.PrefetchCount);
        _workers[p] = worker;
        await worker.StartAsync(_bus, ct).ConfigureAwait(false);
        var elapsed = _time.GetElapsedTime(started);
        LogTaken(p, epoch, partition.GrainCount, elapsed);
    }

    private async Task ReleaseAsync(int p, CancellationToken ct)
    {
        if (_workers.TryRemove(p, out var worker))
        {
            await worker.StopAsync().ConfigureAwait(false);
            await _cluster.ReleaseLeaseAsync(p, SiloId, ct).ConfigureAwait(false);
            LogReleased(p);
        }
    }

    private async Task BalanceLoopAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(Options.BalanceInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
            {
                try
                {
                    await BalanceAsync(ct).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LogBalanceFailed(ex);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // stopping
        }
    }

    private async Task CheckpointLoopAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(_runtimeOptions.CheckpointInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
            {
                foreach (var w in _workers.Values)
                {
                    w.RequestCheckpoint();
                }
            }
        }
        catch (OperationCanceledException)
        {
            // stopping
        }
    }

    [LoggerMessage(EventId = 6001, Level = LogLevel.Information, Message = "Cluster silo {Silo} running: {Owned} of {Partitions} partitions")]
    private partial void LogStarted(string silo, int owned, int partitions);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Information, Message = "Took partition {Partition} (lease epoch {Epoch}, {Grains} grains restored) in {Elapsed}")]
    private partial void LogTaken(int partition, long epoch, int grains, TimeSpan elapsed);

    [LoggerMessage(EventId = 6003, Level = LogLevel.Information, Message = "Handed partition {Partition} over after a final checkpoint")]
    private partial void LogReleased(int partition);

    [LoggerMessage(EventId = 6004, Level = LogLevel.Warning, Message = "Lost the lease of partition {Partition}; dropping it without a checkpoint")]
    private partial void LogLost(int partition);

    [LoggerMessage(EventId = 6005, Level = LogLevel.Warning, Message = "Checkpoint of partition {Partition} refused: {Reason}")]
    private partial void LogLeaseFenced(int partition, string reason);

    [LoggerMessage(EventId = 6006, Level = LogLevel.Error, Message = "Checkpoint of partition {Partition} failed; the batches stay unacked and are retried")]
    private partial void LogCheckpointFailure(int partition, Exception ex);

    [LoggerMessage(EventId = 6007, Level = LogLevel.Error, Message = "Balancing failed; retrying")]
    private partial void LogBalanceFailed(Exception ex);

    [LoggerMessage(EventId = 6008, Level = LogLevel.Warning, Message = "Refused {Count} events: {Reason}")]
    private partial void LogRefused(int count, string reason);

    [LoggerMessage(EventId = 6009, Level = LogLevel.Error, Message = "Delivering {Count} findings to the response and SIEM side failed")]
    private partial void LogNotifyFailed(int count, Exception ex);

    [LoggerMessage(EventId = 6010, Level = LogLevel.Error, Message = "Snapshot of {Entity} is unreadable; the grain starts fresh")]
    private partial void LogSnapshotUnreadable(string entity, Exception ex);

    [LoggerMessage(EventId = 6012, Level = LogLevel.Information, Message = "Silo {Silo} leader: {Leader}")]
    private partial void LogLeadership(string silo, bool leader);

    [LoggerMessage(EventId = 6011, Level = LogLevel.Information, Message = "Cluster silo {Silo} stopped and left")]
    private partial void LogStopped(string silo);
}
