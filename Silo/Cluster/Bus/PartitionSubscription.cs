using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;

namespace AnomalyZT.Silo.Cluster.Bus;

/// <summary>A consumer of one partition queue (from <see cref="PartitionBus.ConsumeAsync(int, Func{BusDelivery, Task}, CancellationToken)"/>).
/// Deliveries reach the handler one at a time, in queue order; nothing is acked until <see cref="AckUpToAsync"/>.
/// Disposing closes the channel: every unacked batch returns to the queue for the next consumer.</summary>
/// <remarks>
/// <para>Single-active-consumer: the broker delivers to one consumer of the queue at a time; the others wait, with no
/// notice in AMQP 0-9-1, until it goes away. The client therefore cannot tell a waiting consumer from an active one on an
/// empty queue: <see cref="IsActive"/> turns true with the first delivery of the current registration.</para>
/// <para>When the connection or channel is lost, the registration is lost: its unacked batches go back to the queue
/// (maybe to another silo), acks of its deliveries return false, the lost callback runs, and the subscription registers
/// again once the broker is back, as a new <see cref="Generation"/>.</para>
/// <para>An ack is not confirmed by the broker: if the connection drops right after <see cref="AckUpToAsync"/>, the
/// batches can still be redelivered. Whatever applies them must make a second application harmless (checkpoint which
/// batches it holds).</para>
/// </remarks>
public sealed partial class PartitionSubscription : IAsyncDisposable
{
    private const int TagBits = 40;
    private const ulong TagMask = (1UL << TagBits) - 1;
    internal const int GenerationMask = (1 << 23) - 1;
    private static readonly AsyncLocal<PartitionSubscription?> InHandler = new();

    private readonly PartitionBus _bus;
    private readonly Func<BusDelivery, Task> _onDelivery;
    private readonly Func<BusConsumerLost, Task>? _onLost;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim _handlerGate = new(1, 1);
    private readonly SemaphoreSlim _ackGate = new(1, 1);
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile Registration? _current;
    private volatile bool _deliveriesStopped;
    private Task _loop = Task.CompletedTask;
    private Exception? _fault;
    private int _disposed;

    internal PartitionSubscription(PartitionBus bus, int partition, Func<BusDelivery, Task> onDelivery, Func<BusConsumerLost, Task>? onLost)
    {
        _bus = bus;
        Partition = partition;
        QueueName = bus.BusOptions.QueueName(partition);
        _onDelivery = onDelivery;
        _onLost = onLost;
        _stop.Token.Register(() => _stopped.TrySetResult());
    }

    /// <summary>The partition.</summary>
    public int Partition { get; }

    /// <summary>The queue it consumes.</summary>
    public string QueueName { get; }

    /// <summary>The current registration: a number unique on this bus, new after every loss; see
    /// <see cref="BusDelivery.Generation"/>.</summary>
    public int Generation => _current?.Generation ?? 0;

    /// <summary>True while the consumer is registered with the broker (active or waiting).</summary>
    public bool IsRegistered => _current is { IsLost: false } && !_deliveriesStopped && _disposed == 0;

    /// <summary>True once the current registration has received a delivery, i.e. it is the queue's active consumer.
    /// False can mean waiting behind another consumer or simply an empty queue: AMQP 0-9-1 does not tell.</summary>
    public bool IsActive => _current is { IsLost: false, HasDelivered: true } && !_deliveriesStopped && _disposed == 0;

    /// <summary>Completes when the subscription has stopped (disposed); faults with the handler's exception when the
    /// delivery handler threw (the subscription then stops by itself, returning its unacked batches).</summary>
    public Task Completion => _completion.Task;

    /// <summary>Acks every delivery of the current registration up to and including <paramref name="deliveryTag"/>
    /// (AMQP multiple ack). Tags at or below the last ack are a no-op.</summary>
    /// <returns>False when the tag belongs to a lost registration or the channel is closed: those batches are (or will
    /// be) delivered again, to this or another consumer.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The tag was never delivered.</exception>
    public async Task<bool> AckUpToAsync(ulong deliveryTag, CancellationToken ct = default)
    {
        var generation = (int)(deliveryTag >> TagBits);
        var tag = deliveryTag & TagMask;
        ArgumentOutOfRangeException.ThrowIfZero(tag, nameof(deliveryTag));
        await _ackGate.WaitAsync(ct);
        try
        {
            var registration = _current;
            if (registration is null || registration.Generation != generation || registration.IsLost || !registration.Channel.IsOpen)
            {
                return false;
            }

            if (tag <= registration.LastAcked)
            {
                return true;
            }

            if (tag > Volatile.Read(ref registration.MaxSeen))
            {
                throw new ArgumentOutOfRangeException(nameof(deliveryTag), "the delivery tag was not delivered to this subscription");
            }

            try
            {
                await registration.Channel.BasicAckAsync(tag, multiple: true, ct);
            }
            catch (Exception ex) when (ex is AlreadyClosedException or OperationInterruptedException or IOException or ObjectDisposedException)
            {
                return false;
            }

            registration.LastAcked = tag;
            _bus.Metrics.Acked();
            return true;
        }
        finally
        {
            _ackGate.Release();
        }
    }

    /// <summary>Stops deliveries (AMQP <c>basic.cancel</c>) and waits for the running handler, but keeps the channel
    /// open so that a final checkpoint can still <see cref="AckUpToAsync"/>; then dispose. This is the graceful
    /// hand-over: with single-active-consumer the broker activates the next consumer at once, and it receives the batches
    /// left unacked here when this one is disposed.</summary>
    public async Task CancelAsync(CancellationToken ct = default)
    {
        _deliveriesStopped = true;
        if (_current is { IsLost: false } registration && registration.ConsumerTag.Length > 0)
        {
            try
            {
                await registration.Channel.BasicCancelAsync(registration.ConsumerTag, noWait: false, ct);
            }
            catch (Exception ex) when (ex is AlreadyClosedException or OperationInterruptedException or IOException or ObjectDisposedException)
            {
                // Lost anyway: its batches are back in the queue.
            }
        }

        await WaitForHandlerAsync(ct);
    }

    /// <summary>Stops consuming: waits for the running handler, then closes the channel, so every unacked batch returns
    /// to the queue. Safe to call from inside the handler (the close then happens when the handler returns).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _bus.Forget(this);
        await _stop.CancelAsync();
        if (ReferenceEquals(InHandler.Value, this))
        {
            _ = Task.Run(ShutdownAsync);
            return;
        }

        await ShutdownAsync();
    }

    internal async Task StartAsync(CancellationToken ct)
    {
        await RegisterAsync(initial: true, ct);
        _loop = Task.Run(RunAsync, CancellationToken.None);
    }

    private async Task RegisterAsync(bool initial, CancellationToken ct)
    {
        var connection = _bus.ConsumerConnection;
        var session = initial ? await connection.ConnectAsync(ct) : await connection.GetAsync(failFast: false, ct);
        IChannel channel;
        try
        {
            channel = await session.Connection.CreateChannelAsync(
                new CreateChannelOptions(publisherConfirmationsEnabled: false, publisherConfirmationTrackingEnabled: false, consumerDispatchConcurrency: 1), ct);
        }
        catch (Exception ex) when (ex is AlreadyClosedException or OperationInterruptedException or IOException)
        {
            throw new BusUnavailableException($"RabbitMQ connection closed while opening the consumer channel of partition {Partition}: {ex.Message}", ex);
        }

        var registration = new Registration(channel, _bus.NextGeneration());
        channel.ChannelShutdownAsync += (_, e) =>
        {
            registration.MarkLost(Describe(e));
            return Task.CompletedTask;
        };
        try
        {
            await channel.BasicQosAsync(0, (ushort)_bus.BusOptions.PrefetchCount, global: false, ct);
            // Current before basic.consume: deliveries (and their acks) can come before BasicConsumeAsync returns.
            _current = registration;
            registration.ConsumerTag = await channel.BasicConsumeAsync(QueueName, autoAck: false, consumerTag: string.Empty, noLocal: false,
                exclusive: false, arguments: null, new Consumer(this, registration), ct);
        }
        catch (Exception ex)
        {
            registration.MarkLost("registration failed");
            await _bus.CloseQuietlyAsync(channel);
            if (ex is OperationInterruptedException { ShutdownReason.ReplyCode: 404 })
            {
                throw new BusException($"RabbitMQ queue '{QueueName}' of partition {Partition} does not exist; declare the partition queues first", ex);
            }

            if (ex is AlreadyClosedException or OperationInterruptedException or IOException)
            {
                throw new BusUnavailableException($"RabbitMQ refused or dropped the consumer of partition {Partition}: {ex.Message}", ex);
            }

            throw;
        }

        BusLog.Consuming(_bus.Logger, Partition, QueueName, registration.Generation, _bus.BusOptions.PrefetchCount);
    }

    private async Task RunAsync()
    {
        var options = _bus.BusOptions;
        while (true)
        {
            var registration = _current!;
            await Task.WhenAny(registration.Lost.Task, _stopped.Task);
            if (_stop.IsCancellationRequested)
            {
                return;
            }

            var reason = await registration.Lost.Task;
            _bus.Metrics.ConsumerLost();
            BusLog.ConsumerLost(_bus.Logger, Partition, registration.Generation, reason);
            // The running handler of the lost registration finishes first; its acks already return false.
            await _handlerGate.WaitAsync();
            try
            {
                if (_onLost is not null)
                {
                    await _onLost(new BusConsumerLost(Partition, registration.Generation, reason));
                }
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                BusLog.LostCallbackFailed(_bus.Logger, ex, Partition);
            }
            finally
            {
                _handlerGate.Release();
            }

            _ = _bus.CloseQuietlyAsync(registration.Channel);
            if (_deliveriesStopped)
            {
                return;
            }

            var delay = options.ReconnectDelay;
            while (true)
            {
                try
                {
                    await RegisterAsync(initial: false, _stop.Token);
                    break;
                }
                catch (OperationCanceledException) when (_stop.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    BusLog.ResubscribeFailed(_bus.Logger, Partition, ex.Message, delay);
                }

                try
                {
                    await Task.Delay(delay, _bus.Time, _stop.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, options.MaxReconnectDelay.Ticks));
            }
        }
    }
}
