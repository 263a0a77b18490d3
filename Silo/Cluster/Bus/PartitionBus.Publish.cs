using System.Diagnostics;
using System.Threading.RateLimiting;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace AnomalyZT.Silo.Cluster.Bus;

public sealed partial class PartitionBus
{
    private const string OctetStream = "application/octet-stream";

    /// <summary>Publishes each batch to its partition's queue (persistent, message id = batch id, mandatory) and returns
    /// only when the broker has confirmed every one: then they are durable in their quorum queues. Batches of one
    /// partition keep their order. Thread-safe; concurrent calls share a small pool of confirm channels.</summary>
    /// <exception cref="BusBackpressureException">The broker blocks publishing, did not confirm within
    /// <see cref="RabbitBusOptions.PublishTimeout"/>, or nacked: answer 429. <see cref="BusException.UnconfirmedBatchIds"/>
    /// lists what is not known to be durable (some of it may still arrive: a retry is at-least-once).</exception>
    /// <exception cref="BusUnavailableException">The broker is unreachable or the connection dropped.</exception>
    /// <exception cref="BusException">A partition has no queue (not declared).</exception>
    public async Task PublishAsync(IReadOnlyList<(int Partition, ReadOnlyMemory<byte> Body, string BatchId)> batches, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(batches);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        for (var i = 0; i < batches.Count; i++)
        {
            var (partition, _, batchId) = batches[i];
            ArgumentOutOfRangeException.ThrowIfNegative(partition, nameof(batches));
            if (batchId is null || batchId.Length > 255)
            {
                throw new ArgumentException(FormattableString.Invariant($"batch {i} has no batch id or one longer than 255 characters"), nameof(batches));
            }
        }

        if (batches.Count == 0)
        {
            return;
        }

        if (_publisher.BlockedReason is { } blocked)
        {
            throw Refused("blocked", new BusBackpressureException(
                $"RabbitMQ blocks publishing ({blocked}): a resource alarm is in effect; retry later", null, UnconfirmedIds(batches, null))
            { RetryAfter = TimeSpan.FromSeconds(5) }, batches.Count);
        }

        var started = Stopwatch.GetTimestamp();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(_options.PublishTimeout);
        var confirmed = new bool[batches.Count];
        PublishChannel? channel = null;
        var haveSlot = false;
        var healthy = false;
        try
        {
            await _publishSlots.WaitAsync(timeout.Token);
            haveSlot = true;
            channel = await RentChannelAsync(timeout.Token);
            var window = new Task[Math.Min(_options.MaxUnconfirmedPerChannel, batches.Count)];
            for (var start = 0; start < batches.Count; start += window.Length)
            {
                var end = Math.Min(start + window.Length, batches.Count);
                for (var i = start; i < end; i++)
                {
                    window[i - start] = PublishOneAsync(channel.Channel, batches[i], timeout.Token);
                }

                // Observe every task of the window, remember which were confirmed, then fail with the first error.
                Exception? first = null;
                for (var i = start; i < end; i++)
                {
                    try
                    {
                        await window[i - start];
                        confirmed[i] = true;
                    }
                    catch (Exception ex) when (ex is not OutOfMemoryException)
                    {
                        first ??= ex;
                    }
                }

                if (first is not null)
                {
                    throw first;
                }
            }

            healthy = true;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (OperationCanceledException ex)
        {
            throw _publisher.BlockedReason is { } reason
                ? Refused("blocked", new BusBackpressureException($"RabbitMQ blocked publishing ({reason}) during the call; retry later", ex,
                    UnconfirmedIds(batches, confirmed)) { RetryAfter = TimeSpan.FromSeconds(5) }, batches.Count)
                : _publisher.IsOpen
                    ? Refused("timeout", new BusBackpressureException(FormattableString.Invariant(
                        $"RabbitMQ did not confirm {Unconfirmed(confirmed)} of {batches.Count} batches within {_options.PublishTimeout.TotalSeconds:0.#} s ({RabbitBusOptions.SectionName}:PublishTimeout); retry later"), ex, UnconfirmedIds(batches, confirmed)), batches.Count)
                    : Refused("unavailable", new BusUnavailableException(FormattableString.Invariant(
                        $"RabbitMQ ({_options.Describe()}) was not reachable within {_options.PublishTimeout.TotalSeconds:0.#} s"), ex,
                        UnconfirmedIds(batches, confirmed)), batches.Count);
        }
        catch (PublishException ex) when (ex.IsReturn)
        {
            throw Refused("unroutable", new BusException(
                "RabbitMQ could not route a batch: its partition has no queue under "
                + $"{RabbitBusOptions.SectionName}:QueuePrefix '{_options.QueuePrefix}' (declare the queues first)", ex, UnconfirmedIds(batches, confirmed)), batches.Count);
        }
        catch (PublishException ex)
        {
            throw Refused("nack", new BusBackpressureException(FormattableString.Invariant(
                $"RabbitMQ refused (nacked) {Unconfirmed(confirmed)} of {batches.Count} batches; retry later"), ex, UnconfirmedIds(batches, confirmed)), batches.Count);
        }
        catch (BusUnavailableException ex)
        {
            throw Refused("unavailable", new BusUnavailableException(ex.Message, ex.InnerException, UnconfirmedIds(batches, confirmed)), batches.Count);
        }
        catch (Exception ex) when (ex is AlreadyClosedException or OperationInterruptedException or IOException or ObjectDisposedException)
        {
            throw Refused("unavailable", new BusUnavailableException(
                $"RabbitMQ connection or channel closed during the publish: {ex.Message}", ex, UnconfirmedIds(batches, confirmed)), batches.Count);
        }
        finally
        {
            if (channel is not null)
            {
                ReturnChannel(channel, healthy);
            }

            if (haveSlot)
            {
                _publishSlots.Release();
            }
        }

        _metrics.Published(batches.Count, Stopwatch.GetElapsedTime(started).TotalSeconds);
    }

    private Task PublishOneAsync(IChannel channel, (int Partition, ReadOnlyMemory<byte> Body, string BatchId) batch, CancellationToken ct)
    {
        // One properties object per message: the client adds its confirm-tracking header to it.
        var properties = new BasicProperties
        {
            DeliveryMode = DeliveryModes.Persistent,
            ContentType = OctetStream,
            Timestamp = new AmqpTimestamp(_time.GetUtcNow().ToUnixTimeSeconds()),
        };
        if (batch.BatchId.Length > 0)
        {
            properties.MessageId = batch.BatchId;
        }

        return channel.BasicPublishAsync(string.Empty, _options.QueueName(batch.Partition), mandatory: true, properties, batch.Body, ct).AsTask();
    }

    private async Task<PublishChannel> RentChannelAsync(CancellationToken ct)
    {
        var session = await _publisher.GetAsync(failFast: true, ct);
        while (_idleChannels.TryPop(out var idle))
        {
            if (idle.Generation == session.Generation && idle.Channel.IsOpen)
            {
                return idle;
            }

            _ = CloseQuietlyAsync(idle.Channel);
        }

        // The window of each publish call bounds what is outstanding, so the limiter only has to never say no (the
        // client's default throttles beyond 64). The channel owns and disposes it.
        var limiter = new ConcurrencyLimiter(new ConcurrencyLimiterOptions
        {
            PermitLimit = _options.MaxUnconfirmedPerChannel,
            QueueLimit = _options.MaxUnconfirmedPerChannel,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });
        var options = new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true,
            outstandingPublisherConfirmationsRateLimiter: limiter);
        var channel = await session.Connection.CreateChannelAsync(options, ct);
        return new PublishChannel(channel, session.Generation);
    }

    private void ReturnChannel(PublishChannel channel, bool healthy)
    {
        if (healthy && channel.Channel.IsOpen && _disposed == 0)
        {
            _idleChannels.Push(channel);
        }
        else
        {
            // A channel that timed out or failed may hold stale confirm state: never reuse it.
            _ = CloseQuietlyAsync(channel.Channel);
        }
    }

    private BusException Refused(string reason, BusException exception, int count)
    {
        _metrics.PublishFailed(reason);
        if (reason is "blocked" or "unavailable")
        {
            // The connection already logged the alarm or the outage once; one line per refused request would flood.
            BusLog.PublishRefused(_logger, count, reason, exception.Message);
        }
        else
        {
            BusLog.PublishFailed(_logger, count, reason, exception.Message);
        }
        return exception;
    }

    private static int Unconfirmed(bool[] confirmed) => confirmed.Count(c => !c);

    private static string[] UnconfirmedIds(IReadOnlyList<(int Partition, ReadOnlyMemory<byte> Body, string BatchId)> batches, bool[]? confirmed)
    {
        var ids = new List<string>(batches.Count);
        for (var i = 0; i < batches.Count; i++)
        {
            if (confirmed is null || !confirmed[i])
            {
                ids.Add(batches[i].BatchId);
            }
        }

        return [.. ids];
    }

    private sealed record PublishChannel(IChannel Channel, int Generation);
}
