using System.Threading.Channels;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Grains.Runtime;
using AnomalyZT.Silo.State;

namespace AnomalyZT.Silo.Runtime;

/// <summary>The one thread of control of a partition: drains its queue, applies events to the grains, moves the
/// clock, and commits checkpoints. Grain code therefore never needs a lock.</summary>
internal sealed partial class PartitionWorker
{
    private readonly Channel<Message> _queue = Channel.CreateUnbounded<Message>(new UnboundedChannelOptions { SingleReader = true });
    private readonly List<Finding> _findings = [];
    private readonly List<DeadLetter> _deadLetters = [];
    private readonly Dictionary<EntityKey, GrainSnapshot> _snapshots = [];

    // Keys of grains dropped from memory; their state is in the store. Keys only: small next to a grain.
    private readonly HashSet<EntityKey> _evicted = [];
    private readonly EmbeddedRuntime _runtime;
    private readonly int _capacity;
    private int _depth;

    public PartitionWorker(Partition partition, EmbeddedRuntime runtime, int capacity)
    {
        Partition = partition;
        _runtime = runtime;
        _capacity = capacity;
    }

    public Partition Partition { get; }

    /// <summary>Events and ticks admitted and not yet applied.</summary>
    public int Depth => Volatile.Read(ref _depth);

    /// <summary>Reserves room for <paramref name="count"/> events. An empty queue always admits, so one body larger
    /// than the capacity still makes progress; memory stays bounded by capacity plus one body.</summary>
    public bool TryReserve(int count)
    {
        while (true)
        {
            var depth = Volatile.Read(ref _depth);
            if (depth != 0 && depth + count > _capacity)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _depth, depth + count, depth) == depth)
            {
                return true;
            }
        }
    }

    public void Unreserve(int count) => Interlocked.Add(ref _depth, -count);

    public void Post(in Message message) => _queue.Writer.TryWrite(message);

    public void Complete() => _queue.Writer.TryComplete();

    public async Task RunAsync()
    {
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (reader.TryRead(out var message))
            {
                await HandleAsync(message).ConfigureAwait(false);
            }
        }

        await CheckpointAsync().ConfigureAwait(false);
    }

    private async ValueTask HandleAsync(Message m)
    {
        try
        {
            switch (m.Kind)
            {
                case MessageKind.Event:
                    Interlocked.Decrement(ref _depth);
                    await ReloadIfEvictedAsync(m.Event.Key).ConfigureAwait(false);
                    if (!Partition.Apply(m.Event))
                    {
                        _deadLetters.Add(LateLetter(m.Event));
                        _runtime.Metrics.LateEvent();
                    }

                    break;
                case MessageKind.Tick:
                    Interlocked.Decrement(ref _depth);
                    Advance(m.Value);
                    break;
                case MessageKind.Describe:
                    await ReloadIfEvictedAsync(m.Event.Key).ConfigureAwait(false);
                    m.Describe!.TrySetResult(Partition.Describe(m.Event.Key));
                    break;
                case MessageKind.CloseAll:
                    Partition.CloseAll(_findings);
                    Complete(m, await CheckpointAsync().ConfigureAwait(false));
                    break;
                case MessageKind.Flush:
                    Complete(m, await CheckpointAsync().ConfigureAwait(false));
                    break;
                case MessageKind.Reconfigure:
                    var droppedBefore = Partition.ContributionsDroppedByReload;
                    Partition.Reconfigure(m.Config!);
                    _runtime.Metrics.DroppedByReload(Partition.ContributionsDroppedByReload - droppedBefore);
                    m.Done!.TrySetResult();
                    break;
                case MessageKind.DeadLetters:
                    _deadLetters.AddRange(m.Letters!);
                    break;
                case MessageKind.Checkpoint:
                    await CheckpointAsync().ConfigureAwait(false);
                    break;
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A bug in one grain must not stop the partition: record it, dead-letter the event, go on.
            _runtime.LogWorkerError(Partition.Index, m.Kind, ex);
            if (m.Kind == MessageKind.Event)
            {
                _deadLetters.Add(new DeadLetter(0, _runtime.NowMs, "internal:" + m.Event.Key, 0,
                    "internal error while applying the event: " + ex.GetType().Name, []));
            }

            m.Done?.TrySetException(ex);
            m.Describe?.TrySetException(ex);
        }
    }

    private static void Complete(in Message m, bool committed)
    {
        if (committed)
        {
            m.Done!.TrySetResult();
        }
        else
        {
            m.Done!.TrySetException(new IOException("the checkpoint could not be committed to the state store; see the silo log"));
        }
    }

    private void Advance(long highWaterMs)
    {
        var closedBefore = Partition.BucketsClosed;
        Partition.Advance(highWaterMs, _findings);
        _runtime.Metrics.BucketsClosed(Partition.BucketsClosed - closedBefore);
    }

    /// <summary>Commits dirty grains, findings and dead letters; on failure keeps them for the next checkpoint.</summary>
    /// <returns>False when the store refused the commit.</returns>
    private async ValueTask<bool> CheckpointAsync()
    {
        if (!_runtime.Persistent)
        {
            Partition.ForgetDirty(); // a replay without a store has nothing to snapshot into
        }

        foreach (var (key, data) in Partition.TakeDirtySnapshots())
        {
            // Newer state of a grain replaces older state still waiting from a failed commit.
            _snapshots[key] = new GrainSnapshot(key, Partition.Index, 1, data, _runtime.NowMs);
        }

        if (_snapshots.Count == 0 && _findings.Count == 0 && _deadLetters.Count == 0)
        {
            Evict();
            return true;
        }

        var findings = _findings.ToArray();
        try
        {
            await _runtime.CommitAsync(new Checkpoint([.. _snapshots.Values], findings, [.. _deadLetters])).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Keep everything for the next checkpoint: a store outage delays findings, it does not lose them.
            _runtime.LogCheckpointFailure(Partition.Index, ex);
            return false;
        }

        _snapshots.Clear();
        _findings.Clear();
        _deadLetters.Clear();
        Evict();
        await _runtime.NotifyAsync(findings).ConfigureAwait(false);
        return true;
    }

    /// <summary>Drops saved idle grains beyond the memory budget; only after a successful commit, so what is dropped
    /// is in the store.</summary>
    private void Evict()
    {
        if (!_runtime.Persistent || _runtime.MaxGrainsPerPartition <= 0 || Partition.GrainCount <= _runtime.MaxGrainsPerPartition)
        {
            return;
        }

        var keys = new List<EntityKey>();
        var dropped = Partition.EvictIdle(_runtime.MaxGrainsPerPartition, keys);
        _evicted.UnionWith(keys);
        _runtime.Metrics.Evicted(dropped);
    }

    private async ValueTask ReloadIfEvictedAsync(EntityKey key)
    {
        if (_evicted.Count == 0 || Partition.IsActive(key) || !_evicted.Remove(key))
        {
            return;
        }

        var snapshot = await _runtime.LoadSnapshotAsync(key).ConfigureAwait(false);
        if (snapshot is not null)
        {
            Partition.Restore(key, snapshot.Data);
            _runtime.Metrics.Reloaded();
        }
    }

    private DeadLetter LateLetter(in RoutedEvent e)
    {
        var reason = string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"event time {DateTimeOffset.FromUnixTimeMilliseconds(e.Event.TimestampMs):O} is older than the partition watermark " +
            $"{DateTimeOffset.FromUnixTimeMilliseconds(Partition.WatermarkMs):O} (allowed lateness {Partition.Config.AllowedLatenessSeconds}s); its bucket is closed");
        return new DeadLetter(0, _runtime.NowMs, "late:" + e.Key, 0, reason, EventDescription.ToJson(e));
    }
}

internal enum MessageKind : byte
{
    Event,
    Tick,
    Describe,
    Flush,
    CloseAll,
    Checkpoint,
    DeadLetters,
    Reconfigure,
}

internal readonly record struct Message(
    MessageKind Kind,
    RoutedEvent Event = default,
    long Value = 0,
    TaskCompletionSource? Done = null,
    TaskCompletionSource<EntityView?>? Describe = null,
    IReadOnlyList<DeadLetter>? Letters = null,
    Grains.Config.DetectionConfig? Config = null);
