using System.Threading.Channels;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Grains.Runtime;
using AnomalyZT.Silo.Cluster.Bus;
using AnomalyZT.Silo.State;

namespace AnomalyZT.Silo.Cluster;

/// <summary>One partition this silo holds the lease of: consumes its queue, applies batches to the grains, and
/// checkpoints — snapshots, findings, dead letters and the ids of the batches applied since the last ack, fenced by the
/// lease epoch — before it acks. After a crash the unacked tail is redelivered; batches the last checkpoint already
/// applied are recognised by id and skipped, so nothing counts twice.</summary>
internal sealed partial class ClusterPartitionWorker : IAsyncDisposable
{
    private readonly Channel<Item> _inbox = Channel.CreateUnbounded<Item>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ClusterRuntime _runtime;
    private readonly List<Finding> _findings = [];
    private readonly List<DeadLetter> _deadLetters = [];
    private readonly Dictionary<EntityKey, GrainSnapshot> _snapshots = [];
    // Batches applied since the last ack the broker took: committed with every checkpoint, so after a crash their
    // redelivery is recognised.
    private readonly List<string> _appliedSinceAck = [];

    // The most recently applied batch ids (and those the last owner's checkpoint listed): a redelivery after a lost
    // channel comes from the last prefetch-worth of deliveries, so a window twice that long recognises every one.
    private readonly HashSet<string> _recent = new(StringComparer.Ordinal);
    private readonly Queue<string> _recentOrder = new();
    private readonly int _recentCapacity;
    private readonly CancellationTokenSource _stop = new();
    private PartitionSubscription? _subscription;
    private Task? _loop;
    private ulong _lastTag;
    private int _lastGeneration;
    private int _unacked;

    public ClusterPartitionWorker(ClusterRuntime runtime, Partition partition, long epoch, IEnumerable<string> appliedBeforeCrash, int prefetch)
    {
        _runtime = runtime;
        Partition = partition;
        Epoch = epoch;
        _recentCapacity = Math.Max(4096, prefetch * 2);
        foreach (var id in appliedBeforeCrash)
        {
            Remember(id);
        }
    }

    public Partition Partition { get; }

    public long Epoch { get; }

    /// <summary>Batches applied (not counting skipped duplicates) since this silo took the partition.</summary>
    public long Applied { get; private set; }

    /// <summary>Redelivered batches skipped because the last checkpoint already had them.</summary>
    public long SkippedDuplicates { get; private set; }

    public async Task StartAsync(PartitionBus bus, CancellationToken ct)
    {
        _loop = Task.Run(RunAsync, CancellationToken.None);
        _subscription = await bus.ConsumeAsync(Partition.Index, d => _inbox.Writer.WriteAsync(new Item(d, null), _stop.Token).AsTask(), ct)
            .ConfigureAwait(false);
    }

    /// <summary>Asks the loop to describe a grain (it owns the grains: no other thread reads them).</summary>
    public Task<EntityView?> DescribeAsync(EntityKey key)
    {
        var done = new TaskCompletionSource<EntityView?>(TaskCreationOptions.RunContinuationsAsynchronously);
        _inbox.Writer.TryWrite(new Item(default, Control.ForDescribe(key, done)));
        return done.Task;
    }

    /// <summary>Checkpoints now (the periodic timer).</summary>
    public void RequestCheckpoint() => _inbox.Writer.TryWrite(new Item(default, Control.CheckpointOnly));

    /// <summary>Switches the grains to a new configuration.</summary>
    public Task ReconfigureAsync(Grains.Config.DetectionConfig config)
    {
        var done = new TaskCompletionSource<EntityView?>(TaskCreationOptions.RunContinuationsAsynchronously);
        _inbox.Writer.TryWrite(new Item(default, Control.Reconfigure(config, done)));
        return done.Task;
    }

    /// <summary>Graceful hand-over: stop consuming, checkpoint, ack, end.</summary>
    public async Task StopAsync()
    {
        if (_subscription is not null)
        {
            await _subscription.CancelAsync().ConfigureAwait(false);
        }

        _inbox.Writer.TryComplete();
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }

        if (_subscription is not null)
        {
            await _subscription.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Abandons the partition without a checkpoint (the lease was lost): unacked batches go back to the queue.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _inbox.Writer.TryComplete();
        if (_subscription is not null)
        {
            await _subscription.DisposeAsync().ConfigureAwait(false);
        }

        if (_loop is not null)
        {
            try
            {
                await _loop.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // abandoned
            }
        }

        _stop.Dispose();
    }

    private async Task RunAsync()
    {
        var reader = _inbox.Reader;
        while (await reader.WaitToReadAsync(_stop.Token).ConfigureAwait(false))
        {
            while (reader.TryRead(out var item))
            {
                if (item.Control is { } control)
                {
                    await HandleControlAsync(control).ConfigureAwait(false);
                    continue;
                }

                await HandleDeliveryAsync(item.Delivery).ConfigureAwait(false);
                if (_unacked >= _runtime.Options.CheckpointEveryBatches)
                {
                    await CheckpointAsync().ConfigureAwait(false);
                }
            }
        }

        if (!_stop.IsCancellationRequested)
        {
            await CheckpointAsync().ConfigureAwait(false);
        }
    }

    private async Task HandleControlAsync(Control control)
    {
        switch (control.Kind)
        {
            case ControlKind.Checkpoint:
                await CheckpointAsync().ConfigureAwait(false);
                break;
            case ControlKind.Describe:
                control.Done!.TrySetResult(Partition.Describe(control.Key));
                break;
            case ControlKind.Reconfigure:
                Partition.Reconfigure(control.Config!);
                control.Done!.TrySetResult(null);
                break;
        }
    }

    private async Task HandleDeliveryAsync(BusDelivery delivery)
    {
        if (delivery.Generation != _lastGeneration && _unacked > 0)
        {
            // A new registration (the connection dropped): the older deliveries cannot be acked any more; the broker
            // hands them out again and the applied-batch ids recognise them. Checkpoint what was applied.
            await CheckpointAsync().ConfigureAwait(false);
        }

        _lastGeneration = delivery.Generation;
        _lastTag = delivery.DeliveryTag;
        _unacked++;
        PartitionMessage message;
        try
        {
            message = BatchCodec.Decode(delivery.Body);
        }
        catch (InvalidDataException ex)
        {
            _deadLetters.Add(new DeadLetter(0, _runtime.NowMs, "bus:partition-" + Partition.Index, 0, "unreadable partition message: " + ex.Message, delivery.Body.ToArray()));
            return;
        }

        if (_recent.Contains(message.BatchId))
        {
            SkippedDuplicates++;
            return;
        }

        switch (message.Kind)
        {
            case PartitionMessageKind.Events:
                foreach (var e in message.Events)
                {
                    if (!Partition.Apply(e))
                    {
                        _deadLetters.Add(new DeadLetter(0, _runtime.NowMs, "late:" + e.Key, 0,
                            "event time is older than the partition watermark; its bucket is closed", Runtime.EventDescription.ToJson(e)));
                        _runtime.Metrics.LateEvent();
                    }
                }

                Advance(message.HighWaterMs);
                break;
            case PartitionMessageKind.Tick:
                Advance(message.HighWaterMs);
                break;
            case PartitionMessageKind.CloseAll:
                Partition.CloseAll(_findings);
                MarkApplied(message.BatchId);
                await CheckpointAsync().ConfigureAwait(false);
                await _runtime.ReportClosedAsync(message.Correlation, Partition.Index).ConfigureAwait(false);
                return;
        }

        MarkApplied(message.BatchId);
    }

    private void MarkApplied(string batchId)
    {
        _appliedSinceAck.Add(batchId);
        Remember(batchId);
        Applied++;
    }

    private void Remember(string batchId)
    {
        if (!_recent.Add(batchId))
        {
            return;
        }

        _recentOrder.Enqueue(batchId);
        while (_recentOrder.Count > _recentCapacity)
        {
            _recent.Remove(_recentOrder.Dequeue());
        }
    }

    private void Advance(long highWaterMs)
    {
        var before = Partition.BucketsClosed;
        Partition.Advance(highWaterMs, _findings);
        _runtime.Metrics.BucketsClosed(Partition.BucketsClosed - before);
    }

    private async Task CheckpointAsync()
    {
        foreach (var (key, data) in Partition.TakeDirtySnapshots())
        {
            _snapshots[key] = new GrainSnapshot(key, Partition.Index, 1, data, _runtime.NowMs);
        }

        if (_snapshots.Count == 0 && _findings.Count == 0 && _deadLetters.Count == 0 && _unacked == 0)
        {
            return;
        }

        var findings = _findings.ToArray();
        var progress = new PartitionProgress(Partition.Index, _runtime.SiloId, Epoch, [.. _appliedSinceAck]);
        try
        {
            await _runtime.CommitAsync(new Checkpoint([.. _snapshots.Values], findings, [.. _deadLetters]) { Progress = progress }).ConfigureAwait(false);
        }
        catch (LeaseLostException ex)
        {
            // Another silo owns the partition now: drop everything; it replays the unacked tail onto its snapshot.
            _runtime.LogFenced(Partition.Index, ex.Message);
            _runtime.Abandon(Partition.Index);
            await _stop.CancelAsync().ConfigureAwait(false);
            return;
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
        {
            // Keep everything and do not ack: a store outage delays the partition, it loses nothing.
            _runtime.LogCheckpointFailed(Partition.Index, ex);
            return;
        }

        _snapshots.Clear();
        _findings.Clear();
        _deadLetters.Clear();
        // Only an ack the broker took ends the need to list these batches; a stale one (the channel was lost) means
        // they come back, and the next checkpoint lists them again.
        if (_subscription is not null && _unacked > 0 && await _subscription.AckUpToAsync(_lastTag).ConfigureAwait(false))
        {
            _appliedSinceAck.Clear();
        }

        _unacked = 0;
        await _runtime.NotifyAsync(findings).ConfigureAwait(false);
    }

    private readonly record struct Item(BusDelivery Delivery, Control? Control);

    private enum ControlKind : byte
    {
        Checkpoint,
        Describe,
        Reconfigure,
    }

    private sealed record Control(ControlKind Kind, EntityKey Key, TaskCompletionSource<EntityView?>? Done, Grains.Config.DetectionConfig? Config)
    {
        public static readonly Control CheckpointOnly = new(ControlKind.Checkpoint, default, null, null);

        public static Control ForDescribe(EntityKey key, TaskCompletionSource<EntityView?> done) => new(ControlKind.Describe, key, done, null);

        public static Control Reconfigure(Grains.Config.DetectionConfig config, TaskCompletionSource<EntityView?> done) =>
            new(ControlKind.Reconfigure, default, done, config);
    }
}
