using System.Collections.Concurrent;
using System.Diagnostics;
using AnomalyZT.Silo.Cluster.Bus;
using RabbitMQ.Client;
using static AnomalyZT.Tests.Cluster.BusTestKit;

namespace AnomalyZT.Tests.Cluster;

/// <summary>The partition bus against a real RabbitMQ node (one per collection).</summary>
[Collection(RabbitMqCollection.Name)]
public sealed class PartitionBusTests(RabbitMqFixture broker)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task DeclareAsync_Partitions_AreDurableQuorumQueuesWithSingleActiveConsumer_AndRedeclaringIsIdempotent()
    {
        var options = broker.BusOptions();
        await using var bus = NewBus(options);

        await bus.DeclareAsync(3, TestContext.Current.CancellationToken);
        await bus.DeclareAsync(3, TestContext.Current.CancellationToken);

        var queues = await QueuesAsync(broker, options.QueuePrefix);
        Assert.Equal([options.QueueName(0), options.QueueName(1), options.QueueName(2)], queues.Select(q => q.GetProperty("name").GetString()));
        foreach (var queue in queues)
        {
            Assert.Equal("quorum", queue.GetProperty("type").GetString());
            Assert.True(queue.GetProperty("durable").GetBoolean());
            var arguments = queue.GetProperty("arguments").EnumerateArray().ToDictionary(a => a[0].GetString()!, a => a[2].ToString());
            Assert.Equal("True", arguments["x-single-active-consumer"], ignoreCase: true);
            Assert.Equal("quorum", arguments["x-queue-type"]);
        }
    }

    [Fact]
    public async Task DeclareAsync_ExistingClassicQueue_RefusesAndNamesIt()
    {
        var options = broker.BusOptions();
        var ct = TestContext.Current.CancellationToken;
        var factory = new ConnectionFactory { HostName = "127.0.0.1", Port = broker.Port, UserName = broker.User, Password = broker.Password };
        await using (var connection = await factory.CreateConnectionAsync(ct))
        await using (var channel = await connection.CreateChannelAsync(cancellationToken: ct))
        {
            await channel.QueueDeclareAsync(options.QueueName(1), durable: true, exclusive: false, autoDelete: false, arguments: null, cancellationToken: ct);
        }

        await using var bus = NewBus(options);
        var error = await Assert.ThrowsAsync<BusException>(() => bus.DeclareAsync(2, ct));

        Assert.Contains(options.QueueName(1), error.Message, StringComparison.Ordinal);
        Assert.Contains("inequivalent arg", error.Message, StringComparison.Ordinal);
        var queue = Assert.Single(await QueuesAsync(broker, options.QueueName(1)));
        Assert.Equal("classic", queue.GetProperty("type").GetString());
    }

    [Fact]
    public async Task PublishAsync_ThenConsume_DeliversEachPartitionInOrderWithBatchIdsAndBodies()
    {
        var options = broker.BusOptions();
        var ct = TestContext.Current.CancellationToken;
        await using var bus = NewBus(options);
        await bus.DeclareAsync(2, ct);
        var p0 = Batches(0, "a", 150);
        var p1 = Batches(1, "b", 40);
        // One call carries both partitions interleaved; order within a partition must hold.
        var mixed = new List<(int, ReadOnlyMemory<byte>, string)>();
        for (var i = 0; i < p0.Count; i++)
        {
            mixed.Add(p0[i]);
            if (i < p1.Count)
            {
                mixed.Add(p1[i]);
            }
        }

        await bus.PublishAsync(mixed, ct);
        var sink0 = new DeliverySink();
        var sink1 = new DeliverySink();
        await using var sub0 = await bus.ConsumeAsync(0, sink0.OnDeliveryAsync, ct);
        await using var sub1 = await bus.ConsumeAsync(1, sink1.OnDeliveryAsync, ct);
        await sink0.WaitForAsync(150);
        await sink1.WaitForAsync(40);

        Assert.Equal(p0.Select(b => b.BatchId), sink0.Ids);
        Assert.Equal(p1.Select(b => b.BatchId), sink1.Ids);
        Assert.All(sink0.Received, d => Assert.Equal("body:" + d.BatchId, BodyText(d)));
        Assert.All(sink0.Received, d => Assert.False(d.Redelivered));
        Assert.All(sink0.Received, d => Assert.Equal(0, d.Partition));
        Assert.True(sub0.IsActive);
        Assert.True(await sub0.AckUpToAsync(sink0.Received[^1].DeliveryTag, ct));
        Assert.True(await sub1.AckUpToAsync(sink1.Received[^1].DeliveryTag, ct));
        await WaitUntilAsync(() => QueuesEmptyAsync(options.QueuePrefix), Wait, "the queues to be empty after the acks");
    }

    [Fact]
    public async Task PublishAsync_ConcurrentCallers_EveryConfirmedBatchIsDeliveredOnce()
    {
        var options = broker.BusOptions();
        var ct = TestContext.Current.CancellationToken;
        await using var bus = NewBus(options);
        await bus.DeclareAsync(4, ct);

        await Task.WhenAll(Enumerable.Range(0, 16).Select(caller =>
            bus.PublishAsync(Batches(caller % 4, "c" + caller, 50), ct)));

        var sinks = Enumerable.Range(0, 4).Select(_ => new DeliverySink()).ToArray();
        var subscriptions = new List<PartitionSubscription>();
        for (var p = 0; p < 4; p++)
        {
            subscriptions.Add(await bus.ConsumeAsync(p, sinks[p].OnDeliveryAsync, ct));
        }

        foreach (var sink in sinks)
        {
            await sink.WaitForAsync(200);
        }

        for (var p = 0; p < 4; p++)
        {
            var expected = Enumerable.Range(0, 16).Where(c => c % 4 == p).SelectMany(c => Batches(p, "c" + c, 50)).Select(b => b.BatchId).Order(StringComparer.Ordinal);
            Assert.Equal(expected, sinks[p].Ids.Order(StringComparer.Ordinal));
            // Each caller's batches keep their order within the partition.
            foreach (var caller in Enumerable.Range(0, 16).Where(c => c % 4 == p))
            {
                var mine = sinks[p].Ids.Where(id => id.StartsWith("c" + caller + "-", StringComparison.Ordinal)).ToList();
                Assert.Equal(Batches(p, "c" + caller, 50).Select(b => b.BatchId), mine);
            }
        }

        foreach (var subscription in subscriptions)
        {
            await subscription.DisposeAsync();
        }
    }

    [Fact]
    public async Task DisposeAsync_WithUnacked_RedeliversThemInOrderToTheNextConsumerMarkedRedelivered()
    {
        var options = broker.BusOptions();
        var ct = TestContext.Current.CancellationToken;
        await using var bus = NewBus(options);
        await bus.DeclareAsync(1, ct);
        await bus.PublishAsync(Batches(0, "r", 10), ct);

        var first = new DeliverySink();
        var subscription = await bus.ConsumeAsync(0, first.OnDeliveryAsync, ct);
        await first.WaitForAsync(10);
        await subscription.DisposeAsync();
        await subscription.Completion;
        Assert.False(await subscription.AckUpToAsync(first.Received[^1].DeliveryTag, ct));

        var second = new DeliverySink();
        await using var next = await bus.ConsumeAsync(0, second.OnDeliveryAsync, ct);
        await second.WaitForAsync(10);

        Assert.Equal(first.Ids, second.Ids);
        Assert.All(second.Received, d => Assert.True(d.Redelivered));
    }

    [Fact]
    public async Task AckUpToAsync_AcksThePrefixOnly_TheRestIsRedelivered()
    {
        var options = broker.BusOptions();
        var ct = TestContext.Current.CancellationToken;
        await using var bus = NewBus(options);
        await bus.DeclareAsync(1, ct);
        await bus.PublishAsync(Batches(0, "k", 10), ct);

        var first = new DeliverySink();
        var subscription = await bus.ConsumeAsync(0, first.OnDeliveryAsync, ct);
        await first.WaitForAsync(10);
        var received = first.Received;
        Assert.True(await subscription.AckUpToAsync(received[4].DeliveryTag, ct));
        Assert.True(await subscription.AckUpToAsync(received[2].DeliveryTag, ct)); // below the last ack: a no-op
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => subscription.AckUpToAsync(received[^1].DeliveryTag + 1, ct));
        await subscription.DisposeAsync();

        var second = new DeliverySink();
        await using var next = await bus.ConsumeAsync(0, second.OnDeliveryAsync, ct);
        await second.WaitForAsync(5);
        Assert.Equal(received.Skip(5).Select(d => d.BatchId), second.Ids);
        Assert.All(second.Received, d => Assert.True(d.Redelivered));
        // A tag of the old subscription means nothing to the new one.
        Assert.False(await next.AckUpToAsync(received[^1].DeliveryTag, ct));
    }

    [Fact]
    public async Task ConsumeAsync_TwoConsumersOnOnePartition_OnlyOneReceives_TheOtherTakesOverWhenItStops()
    {
        var options = broker.BusOptions();
        var ct = TestContext.Current.CancellationToken;
        await using var bus = NewBus(options);
        await using var otherSilo = NewBus(options);
        await bus.DeclareAsync(1, ct);
        await bus.PublishAsync(Batches(0, "s", 5), ct);

        var a = new DeliverySink();
        var b = new DeliverySink();
        var subA = await bus.ConsumeAsync(0, a.OnDeliveryAsync, ct);
        await a.WaitForAsync(5);
        await using var subB = await otherSilo.ConsumeAsync(0, b.OnDeliveryAsync, ct);
        Assert.Equal((1, 1), await ConsumersAsync(broker, options.QueueName(0)));
        Assert.True(await subA.AckUpToAsync(a.Received[^1].DeliveryTag, ct));
        await bus.PublishAsync(Batches(0, "s", 5, from: 5), ct);
        await a.WaitForAsync(10);

        Assert.Equal(0, b.Count);
        Assert.True(subA.IsActive);
        Assert.False(subB.IsActive);
        Assert.True(subB.IsRegistered);

        await subA.DisposeAsync();
        await b.WaitForAsync(5);
        await bus.PublishAsync(Batches(0, "s", 3, from: 10), ct);
        await b.WaitForAsync(8);

        Assert.Equal(Enumerable.Range(5, 8).Select(i => "s-" + i), b.Ids);
        Assert.All(b.Received.Take(5), d => Assert.True(d.Redelivered));
        Assert.All(b.Received.Skip(5), d => Assert.False(d.Redelivered));
        Assert.True(subB.IsActive);
        Assert.Equal((1, 0), await ConsumersAsync(broker, options.QueueName(0)));
    }

    [Fact]
    public async Task CancelAsync_StopsDeliveriesButStillAcks_ThenTheNextConsumerGetsOnlyTheRest()
    {
        var options = broker.BusOptions(prefetch: 4);
        var ct = TestContext.Current.CancellationToken;
        await using var bus = NewBus(options);
        await bus.DeclareAsync(1, ct);
        await bus.PublishAsync(Batches(0, "h", 12), ct);

        var a = new DeliverySink();
        var subA = await bus.ConsumeAsync(0, a.OnDeliveryAsync, ct);
        await a.WaitForAsync(4);
        await subA.CancelAsync(ct);
        var held = a.Received;
        Assert.Equal(4, held.Count); // prefetch 4, nothing acked: the broker sent no more
        Assert.True(await subA.AckUpToAsync(held[^1].DeliveryTag, ct)); // the final checkpoint's ack still goes through
        await subA.DisposeAsync();

        // The next owner, another silo with the default prefetch.
        var nextOptions = broker.BusOptions();
        nextOptions.QueuePrefix = options.QueuePrefix;
        await using var nextSilo = NewBus(nextOptions);
        var b = new DeliverySink();
        await using var subB = await nextSilo.ConsumeAsync(0, b.OnDeliveryAsync, ct);
        await b.WaitForAsync(8);
        Assert.Equal(Enumerable.Range(4, 8).Select(i => "h-" + i), b.Ids);
        Assert.All(b.Received, d => Assert.False(d.Redelivered));
    }

    [Fact]
    public async Task DeliveryHandler_Throws_SubscriptionFaultsAndTheBatchReturnsToTheQueue()
    {
        var options = broker.BusOptions();
        var ct = TestContext.Current.CancellationToken;
        await using var bus = NewBus(options);
        await bus.DeclareAsync(1, ct);
        await bus.PublishAsync(Batches(0, "x", 3), ct);

        var failing = await bus.ConsumeAsync(0, _ => throw new InvalidOperationException("apply failed"), ct);
        var fault = await Assert.ThrowsAsync<InvalidOperationException>(() => failing.Completion.WaitAsync(Wait, ct));
        Assert.Equal("apply failed", fault.Message);

        var sink = new DeliverySink();
        await using var next = await bus.ConsumeAsync(0, sink.OnDeliveryAsync, ct);
        await sink.WaitForAsync(3);
        Assert.Equal(["x-0", "x-1", "x-2"], sink.Ids);
        Assert.True(sink.Received[0].Redelivered);
    }

    [Fact]
    public async Task PublishAsync_UndeclaredPartition_FailsAsUnroutable()
    {
        var options = broker.BusOptions();
        var ct = TestContext.Current.CancellationToken;
        await using var bus = NewBus(options);
        await bus.DeclareAsync(1, ct);

        var error = await Assert.ThrowsAsync<BusException>(() => bus.PublishAsync(Batches(5, "u", 2), ct));
        Assert.IsNotType<BusBackpressureException>(error);
        Assert.Equal(["u-0", "u-1"], error.UnconfirmedBatchIds);
        await Assert.ThrowsAsync<BusException>(() => bus.ConsumeAsync(5, _ => Task.CompletedTask, ct));
    }

    [Fact]
    public async Task ConnectAsync_WrongPassword_FailsClearlyWithoutTheSecret()
    {
        var options = broker.BusOptions();
        options.Password = "not-the-password-42";
        await using var bus = NewBus(options);

        var error = await Assert.ThrowsAsync<BusUnavailableException>(() => bus.ConnectAsync(TestContext.Current.CancellationToken));
        Assert.Contains("127.0.0.1", error.Message, StringComparison.Ordinal);
        Assert.Contains(broker.User, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("not-the-password-42", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PublishAsync_BrokerBlocksPublishers_ThrowsBackpressureWithinTheTimeout_AndNothingIsLostOnceUnblocked()
    {
        var timeout = TimeSpan.FromSeconds(2);
        var options = broker.BusOptions(publishTimeout: timeout);
        var ct = TestContext.Current.CancellationToken;
        await using var bus = NewBus(options);
        await bus.DeclareAsync(1, ct);
        var before = Batches(0, "pre", 5);
        await bus.PublishAsync(before, ct);
        var sink = new DeliverySink();
        await using var subscription = await bus.ConsumeAsync(0, sink.OnDeliveryAsync, ct);
        await sink.WaitForAsync(5);

        var during = Batches(0, "mid", 5);
        await broker.BlockPublishersAsync();
        try
        {
            var watch = Stopwatch.StartNew();
            var error = await Assert.ThrowsAsync<BusBackpressureException>(() => bus.PublishAsync(during, ct));
            Assert.True(watch.Elapsed < timeout + TimeSpan.FromSeconds(2), $"took {watch.Elapsed}");
            Assert.Equal(during.Select(b => b.BatchId), error.UnconfirmedBatchIds);
            // Once the broker has said it blocks us, refusals are immediate.
            await WaitUntilAsync(() => bus.BlockedReason is not null, Wait, "connection.blocked");
            watch.Restart();
            await Assert.ThrowsAsync<BusBackpressureException>(() => bus.PublishAsync(during, ct));
            Assert.True(watch.Elapsed < TimeSpan.FromMilliseconds(500), $"took {watch.Elapsed}");
            // Consumers have their own connection: acks flow during the alarm.
            Assert.True(await subscription.AckUpToAsync(sink.Received[4].DeliveryTag, ct));
        }
        finally
        {
            await broker.UnblockAsync();
        }

        // The shipper retries after its 429 with the same batch ids.
        await WaitUntilAsync(() => bus.BlockedReason is null, Wait, "connection.unblocked");
        await bus.PublishAsync(during, ct);
        await WaitUntilAsync(() => sink.Ids.Distinct().Count() == 10, Wait, "every batch");

        var ids = sink.Ids;
        Assert.Equal(before.Select(b => b.BatchId), ids.Take(5));
        Assert.Equal(during.Select(b => b.BatchId).Order(StringComparer.Ordinal), ids.Skip(5).Distinct().Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task BrokerRestart_MidStream_PublishingResumes_AndEveryConfirmedBatchIsConsumed()
    {
        var options = broker.BusOptions(publishTimeout: TimeSpan.FromSeconds(3));
        var ct = TestContext.Current.CancellationToken;
        await using var bus = NewBus(options);
        await bus.DeclareAsync(2, ct);
        var sinks = new[] { new DeliverySink(ackEach: true), new DeliverySink(ackEach: true) };
        var subscriptions = new List<PartitionSubscription>();
        for (var p = 0; p < 2; p++)
        {
            var subscription = await bus.ConsumeAsync(p, sinks[p].OnDeliveryAsync, sinks[p].OnLostAsync, ct);
            sinks[p].Subscription = subscription;
            subscriptions.Add(subscription);
        }

        var firstGenerations = subscriptions.Select(s => s.Generation).ToArray();
        var confirmed = new ConcurrentBag<string>();
        var failures = 0;
        var afterRestart = 0;
        var restarted = false;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var publisher = Task.Run(async () =>
        {
            for (var call = 0; !stop.IsCancellationRequested; call++)
            {
                var batch = Batches(call % 2, "t" + call, 3);
                while (!stop.IsCancellationRequested)
                {
                    try
                    {
                        await bus.PublishAsync(batch, stop.Token);
                        foreach (var b in batch)
                        {
                            confirmed.Add(b.BatchId);
                        }

                        if (Volatile.Read(ref restarted))
                        {
                            Interlocked.Increment(ref afterRestart);
                        }

                        break;
                    }
                    catch (BusException)
                    {
                        // As a shipper would after a 429/503: retry the same batch ids a little later.
                        Interlocked.Increment(ref failures);
                        await Task.Delay(100, stop.Token);
                    }
                }

                await Task.Delay(10, stop.Token);
            }
        }, ct);

        await WaitUntilAsync(() => confirmed.Count >= 60, Wait, "publishing before the restart");
        var watch = Stopwatch.StartNew();
        await broker.StopAsync();
        var stopped = watch.Elapsed;
        await Task.Delay(500, ct);
        watch.Restart();
        await broker.StartAgainAsync();
        TestContext.Current.TestOutputHelper?.WriteLine(FormattableString.Invariant(
            $"broker stop took {stopped.TotalSeconds:0.0} s, start {watch.Elapsed.TotalSeconds:0.0} s"));
        Volatile.Write(ref restarted, true);
        await WaitUntilAsync(() => Volatile.Read(ref afterRestart) >= 20, TimeSpan.FromSeconds(30), "publishing to resume after the restart");
        await stop.CancelAsync();
        try
        {
            await publisher;
        }
        catch (OperationCanceledException)
        {
            // stopped
        }

        var expected = confirmed.ToHashSet(StringComparer.Ordinal);
        await WaitUntilAsync(() => expected.IsSubsetOf(sinks.SelectMany(s => s.Ids)), TimeSpan.FromSeconds(30),
            "every confirmed batch to be consumed after the restart");
        Assert.True(failures > 0, "the restart should have refused some publishes");
        Assert.All(sinks, s => Assert.True(s.Lost >= 1, "the consumer should have seen its registration lost"));
        Assert.All(subscriptions, s => Assert.DoesNotContain(s.Generation, firstGenerations));
        Assert.All(subscriptions, s => Assert.True(s.IsRegistered));
        Assert.True(bus.IsConnected);
        foreach (var subscription in subscriptions)
        {
            await subscription.DisposeAsync();
        }
    }

    private async Task<bool> QueuesEmptyAsync(string prefix) =>
        (await QueuesAsync(broker, prefix)).Sum(q => q.GetProperty("messages").GetInt32()) == 0;
}
