using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace AnomalyZT.Silo.Cluster.Bus;

/// <summary>Deliveries, shutdown, and the per-registration state.</summary>
public sealed partial class PartitionSubscription
{
    private async Task OnDeliverAsync(Registration registration, ulong brokerTag, bool redelivered, string? messageId, ReadOnlyMemory<byte> body)
    {
        if (brokerTag > TagMask)
        {
            // Not reachable in practice (2^40 deliveries on one channel); a fresh channel restarts the count.
            registration.MarkLost("delivery tag space exhausted");
            await _bus.CloseQuietlyAsync(registration.Channel);
            return;
        }

        // The client reuses the body's memory once this returns: copy first.
        var copy = body.ToArray();
        await _handlerGate.WaitAsync();
        try
        {
            if (registration.IsLost || _deliveriesStopped || _stop.IsCancellationRequested)
            {
                return; // not acked: the broker hands it out again
            }

            Volatile.Write(ref registration.MaxSeen, brokerTag);
            registration.HasDelivered = true;
            _bus.Metrics.Delivered();
            InHandler.Value = this;
            var tag = ((ulong)registration.Generation << TagBits) | brokerTag;
            await _onDelivery(new BusDelivery(Partition, copy, messageId ?? string.Empty, tag, redelivered, registration.Generation));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            BusLog.HandlerFailed(_bus.Logger, ex, Partition);
            _fault ??= ex;
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                _bus.Forget(this);
                _ = _stop.CancelAsync();
                _ = Task.Run(ShutdownAsync);
            }
        }
        finally
        {
            InHandler.Value = null;
            _handlerGate.Release();
        }
    }

    private async Task ShutdownAsync()
    {
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        // The running handler finishes; deliveries after it are dropped (stop is set). Released before the close, which
        // may wait for the client's dispatcher, itself possibly waiting on this gate.
        await WaitForHandlerAsync(CancellationToken.None);
        if (_current is { } registration)
        {
            await _bus.CloseQuietlyAsync(registration.Channel);
        }

        BusLog.Stopped(_bus.Logger, Partition);
        if (_fault is { } fault)
        {
            _completion.TrySetException(fault);
        }
        else
        {
            _completion.TrySetResult();
        }
    }

    private async Task WaitForHandlerAsync(CancellationToken ct)
    {
        if (ReferenceEquals(InHandler.Value, this))
        {
            return;
        }

        await _handlerGate.WaitAsync(ct);
        _handlerGate.Release();
    }

    private static string Describe(ShutdownEventArgs e) =>
        FormattableString.Invariant($"{e.Initiator} {e.ReplyCode} {e.ReplyText}");

    private sealed class Registration(IChannel channel, int generation)
    {
        public ulong MaxSeen;

        public IChannel Channel { get; } = channel;

        public int Generation { get; } = generation;

        public string ConsumerTag { get; set; } = string.Empty;

        public TaskCompletionSource<string> Lost { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool IsLost => Lost.Task.IsCompleted;

        public ulong LastAcked { get; set; }

        public bool HasDelivered { get; set; }

        public void MarkLost(string reason) => Lost.TrySetResult(reason);
    }

    private sealed class Consumer(PartitionSubscription owner, Registration registration) : AsyncDefaultBasicConsumer(registration.Channel)
    {
        public override Task HandleBasicDeliverAsync(string consumerTag, ulong deliveryTag, bool redelivered, string exchange, string routingKey,
            IReadOnlyBasicProperties properties, ReadOnlyMemory<byte> body, CancellationToken cancellationToken = default) =>
            owner.OnDeliverAsync(registration, deliveryTag, redelivered, properties.MessageId, body);

        public override async Task HandleBasicCancelAsync(string consumerTag, CancellationToken cancellationToken = default)
        {
            await base.HandleBasicCancelAsync(consumerTag, cancellationToken);
            registration.MarkLost("the broker cancelled the consumer (queue deleted or its leader moved)");
        }

        public override async Task HandleChannelShutdownAsync(object channel, ShutdownEventArgs reason)
        {
            await base.HandleChannelShutdownAsync(channel, reason);
            registration.MarkLost(Describe(reason));
        }
    }
}
