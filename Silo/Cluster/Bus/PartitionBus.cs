using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace AnomalyZT.Silo.Cluster.Bus;

/// <summary>The partition bus on RabbitMQ: one durable quorum queue with single-active-consumer per partition. Ingest
/// on any silo publishes per-partition batches with publisher confirms (<see cref="PublishAsync"/>); the silo that owns
/// a partition consumes its queue with manual acks (<see cref="ConsumeAsync(int, Func{BusDelivery, Task}, CancellationToken)"/>).
/// Bodies are opaque bytes.</summary>
/// <remarks>Two connections: one for publishing (the broker blocks it under a resource alarm) and one for consuming and
/// declaring (never blocked, so acks keep flowing). Both reconnect by themselves after a broker restart or a network
/// fault; consumers re-register and say so through their lost callback. Thread-safe.</remarks>
public sealed partial class PartitionBus : IAsyncDisposable
{
    private readonly RabbitBusOptions _options;
    private readonly ILogger _logger;
    private readonly BusMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly BusConnection _publisher;
    private readonly BusConnection _consumer;
    private readonly SemaphoreSlim _publishSlots;
    private readonly ConcurrentStack<PublishChannel> _idleChannels = new();
    private readonly ConcurrentDictionary<PartitionSubscription, byte> _subscriptions = new();
    private int _disposed;
    private int _generations;

    /// <summary>Creates the bus; nothing connects until the first call (or <see cref="ConnectAsync"/>).</summary>
    /// <exception cref="InvalidOperationException">The options are invalid or the password reference cannot be
    /// resolved; the message names the key.</exception>
    public PartitionBus(RabbitBusOptions options, ILogger<PartitionBus> logger, IMeterFactory? meterFactory = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        _options = options;
        _logger = logger;
        _time = time ?? TimeProvider.System;
        _metrics = new BusMetrics(meterFactory);
        _publisher = new BusConnection(options, "publish", logger, _metrics, _time);
        _consumer = new BusConnection(options, "consume", logger, _metrics, _time);
        _publishSlots = new SemaphoreSlim(options.PublishChannels, options.PublishChannels);
    }

    /// <summary>The settings.</summary>
    public RabbitBusOptions Options => _options;

    /// <summary>The broker's reason while it blocks publishing (a memory or disk alarm); null otherwise. While set,
    /// <see cref="PublishAsync"/> fails at once with <see cref="BusBackpressureException"/>.</summary>
    public string? BlockedReason => _publisher.BlockedReason;

    /// <summary>True while both connections are open.</summary>
    public bool IsConnected => _publisher.IsOpen && _consumer.IsOpen;

    /// <summary>Opens both connections now, for a clear error at start.</summary>
    /// <exception cref="BusUnavailableException">The broker is unreachable or refused the login (the message names the
    /// broker and user, never the password).</exception>
    public async Task ConnectAsync(CancellationToken ct)
    {
        await _consumer.ConnectAsync(ct);
        await _publisher.ConnectAsync(ct);
    }

    /// <summary>Declares the queues of partitions 0 to <paramref name="partitions"/> − 1: durable, <c>x-queue-type:
    /// quorum</c>, <c>x-single-active-consumer: true</c>. Idempotent.</summary>
    /// <exception cref="BusException">A queue exists with other arguments (a classic queue, another type, other
    /// settings); the message names it and quotes the broker. That queue is left as it is (queues of lower partitions
    /// may have been declared).</exception>
    /// <exception cref="BusUnavailableException">The broker is unreachable.</exception>
    public async Task DeclareAsync(int partitions, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(partitions, 1);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        var session = await _consumer.ConnectAsync(ct);
        var arguments = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["x-queue-type"] = "quorum",
            ["x-single-active-consumer"] = true,
        };
        var channel = await session.Connection.CreateChannelAsync(cancellationToken: ct);
        try
        {
            for (var p = 0; p < partitions; p++)
            {
                var queue = _options.QueueName(p);
                try
                {
                    await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, arguments, cancellationToken: ct);
                }
                catch (OperationInterruptedException ex) when (ex.ShutdownReason is { ReplyCode: 406 or 405 or 403 } reason)
                {
                    throw new BusException(
                        $"RabbitMQ refused to declare partition queue '{queue}' as a durable quorum queue with single-active-consumer: "
                        + $"{reason.ReplyText}. A queue of that name exists with other arguments (or is not accessible); delete it or choose another "
                        + $"{RabbitBusOptions.SectionName}:QueuePrefix.", ex);
                }
            }
        }
        catch (Exception ex) when (ex is AlreadyClosedException or OperationInterruptedException or IOException)
        {
            throw new BusUnavailableException($"RabbitMQ ({_options.Describe()}) connection failed while declaring the partition queues: {ex.Message}", ex);
        }
        finally
        {
            await CloseQuietlyAsync(channel);
        }

        var (first, last) = (_options.QueueName(0), _options.QueueName(partitions - 1));
        BusLog.Declared(_logger, partitions, first, last);
    }

    /// <summary>Consumes the queue of <paramref name="partition"/>: manual acks, prefetch
    /// <see cref="RabbitBusOptions.PrefetchCount"/>, one delivery at a time in queue order. Returns once the consumer is
    /// registered; with single-active-consumer it may be a waiting one (see <see cref="PartitionSubscription.IsActive"/>).</summary>
    /// <exception cref="BusException">The queue does not exist.</exception>
    /// <exception cref="BusUnavailableException">The broker is unreachable.</exception>
    public Task<PartitionSubscription> ConsumeAsync(int partition, Func<BusDelivery, Task> onDelivery, CancellationToken ct) =>
        ConsumeAsync(partition, onDelivery, onLost: null, ct);

    /// <summary>As <see cref="ConsumeAsync(int, Func{BusDelivery, Task}, CancellationToken)"/>, and calls
    /// <paramref name="onLost"/> whenever the registration is lost (connection or channel closed, the broker cancelled
    /// the consumer): the unacked batches of that registration go back to the queue, possibly to another silo's
    /// consumer, so state applied from them but not checkpointed must be dropped. The subscription then registers again
    /// by itself (as a waiting consumer if another one took over).</summary>
    /// <exception cref="BusException">The queue does not exist.</exception>
    /// <exception cref="BusUnavailableException">The broker is unreachable.</exception>
    public async Task<PartitionSubscription> ConsumeAsync(int partition, Func<BusDelivery, Task> onDelivery, Func<BusConsumerLost, Task>? onLost, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(partition);
        ArgumentNullException.ThrowIfNull(onDelivery);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        var subscription = new PartitionSubscription(this, partition, onDelivery, onLost);
        await subscription.StartAsync(ct);
        _subscriptions.TryAdd(subscription, 0);
        return subscription;
    }

    /// <summary>Stops every subscription (their unacked batches return to the queue) and closes both connections.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        foreach (var subscription in _subscriptions.Keys)
        {
            await subscription.DisposeAsync();
        }

        while (_idleChannels.TryPop(out var idle))
        {
            await CloseQuietlyAsync(idle.Channel);
        }

        await _publisher.DisposeAsync();
        await _consumer.DisposeAsync();
        _metrics.Dispose();
    }

    internal RabbitBusOptions BusOptions => _options;

    internal ILogger Logger => _logger;

    internal BusMetrics Metrics => _metrics;

    internal TimeProvider Time => _time;

    internal BusConnection ConsumerConnection => _consumer;

    /// <summary>A registration number unique on this bus (so a tag of one subscription never passes for another's).</summary>
    internal int NextGeneration() => Interlocked.Increment(ref _generations) & PartitionSubscription.GenerationMask;

    internal void Forget(PartitionSubscription subscription) => _subscriptions.TryRemove(subscription, out _);

    /// <summary>Closes <paramref name="channel"/> within a few seconds, whatever state it is in.</summary>
    internal async Task CloseQuietlyAsync(IChannel channel)
    {
        try
        {
            if (channel.IsOpen)
            {
                using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await channel.CloseAsync(200, "bye", abort: true, limit.Token);
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            BusLog.CloseFailed(_logger, ex.Message);
        }

        try
        {
            await channel.DisposeAsync();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            BusLog.CloseFailed(_logger, ex.Message);
        }
    }
}

/// <summary>A consumer registration was lost; its unacked batches are back in the queue.</summary>
/// <param name="Partition">The partition.</param>
/// <param name="Generation">The registration that was lost (see <see cref="BusDelivery.Generation"/>).</param>
/// <param name="Reason">What the broker or the client said.</param>
public readonly record struct BusConsumerLost(int Partition, int Generation, string Reason);
