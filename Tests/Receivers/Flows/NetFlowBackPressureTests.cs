using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Silo.Receivers;
using AnomalyZT.Silo.Receivers.Flows;
using AnomalyZT.Silo.Runtime;
using AnomalyZT.Silo.State;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace AnomalyZT.Tests.Receivers.Flows;

/// <summary>The collector over a real UDP socket against a runtime that never admits a batch (it refuses, or it
/// throws): what it holds stays bounded, the collector keeps listening, and every datagram is counted.</summary>
public sealed class NetFlowBackPressureTests
{
    private static readonly byte[] Garbage = [0xde, 0xad, 0xbe, 0xef, 0x01];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task MalformedFlood_WhileTheRuntimeRefuses_KeepsLettersPerBatchBounded_AndCountsEveryDatagramRefused()
    {
        const int Datagrams = 1000;
        var runtime = new NeverAdmittingRuntime(throws: false);
        using var stats = new ReceiverStats(null);
        using var collector = Create(runtime, stats);
        await collector.StartAsync(Ct);

        // In steps the receive loop keeps up with, so the kernel drops none and every datagram must be accounted for.
        for (var sent = 0; sent < Datagrams;)
        {
            sent += await SendAsync(collector, Garbage, 100);
            await WaitForAsync(() => collector.DecoderTotals.DatagramsRejected >= sent);
        }

        await collector.StopAsync(Ct);

        Assert.Equal(Datagrams, collector.DecoderTotals.DatagramsRejected);
        var total = stats.Total(NetFlowCollector.ReceiverName);
        // Refused batches' letters were not stored: refused, not rejected (nor lost).
        Assert.Equal((0L, 0L, (long)Datagrams), (total.Accepted, total.Rejected, total.Refused));
        Assert.NotEmpty(runtime.LettersOffered);
        Assert.All(runtime.LettersOffered, n => Assert.InRange(n, 1, FlowBatch.MaxLetters));
        Assert.True(collector.RefusedBatches >= Datagrams / FlowBatch.MaxLetters, $"refused batches: {collector.RefusedBatches}");
    }

    [Fact]
    public async Task RuntimeThatThrows_DoesNotStopTheCollector_AndItsBatchesAreCountedRefused()
    {
        var runtime = new NeverAdmittingRuntime(throws: true);
        using var stats = new ReceiverStats(null);
        using var collector = Create(runtime, stats, flushInterval: TimeSpan.FromMilliseconds(20));
        await collector.StartAsync(Ct);

        await SendAsync(collector, NetFlowCollectorTests.V5("127.0.0.1", "127.0.0.2", 100, records: 2), 1);
        await WaitForAsync(() => stats.Total(NetFlowCollector.ReceiverName).Refused >= 2);
        await SendAsync(collector, NetFlowCollectorTests.V5("127.0.0.1", "127.0.0.2", 100, records: 3), 1);
        await WaitForAsync(() => stats.Total(NetFlowCollector.ReceiverName).Refused >= 5);

        await collector.StopAsync(Ct);
        Assert.True(collector.ExecuteTask!.IsCompletedSuccessfully);
        Assert.Equal(5, stats.Total(NetFlowCollector.ReceiverName).Refused);
        Assert.True(runtime.LettersOffered.Count >= 2);
    }

    private static NetFlowCollector Create(IGrainRuntime runtime, ReceiverStats stats, TimeSpan? flushInterval = null)
    {
        var options = new NetFlowOptions
        {
            Enabled = true,
            Port = 0,
            // Only full batches go out before the stop, so a batch that grew without bound would show.
            FlushInterval = flushInterval ?? TimeSpan.FromMinutes(1),
            GiveUpAfter = TimeSpan.FromMilliseconds(100),
            AllowedSources = [new AllowedSource { Name = NetFlowSilo.Shipper, Cidr = "127.0.0.1/32" }],
        };
        var time = TimeProvider.System;
        return new NetFlowCollector(Options.Create(options), new ReceiverDispatcher(runtime, stats, time),
            new ShipperRateLimiter(new RateLimitOptions(), time), time, NullLogger<NetFlowCollector>.Instance, null);
    }

    private static async Task<int> SendAsync(NetFlowCollector collector, byte[] datagram, int times)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        for (var i = 0; i < times; i++)
        {
            await socket.SendToAsync(datagram, SocketFlags.None, collector.LocalEndPoint!, Ct);
        }

        return times;
    }

    private static async Task WaitForAsync(Func<bool> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!done())
        {
            Assert.True(DateTime.UtcNow < deadline, "the collector did not get there within 10 s");
            await Task.Delay(10, Ct);
        }
    }

    /// <summary>A runtime whose queues are always full (or that always throws), recording how many dead letters each
    /// offered batch held.</summary>
    private sealed class NeverAdmittingRuntime(bool throws) : IGrainRuntime
    {
        public ConcurrentQueue<int> LettersOffered { get; } = new();

        public int PartitionCount => 1;

        public bool IsRunning => true;

        public DispatchResult TryDispatch(ReadOnlySpan<EngineEvent> events, IReadOnlyList<DeadLetter> deadLetters)
        {
            LettersOffered.Enqueue(deadLetters.Count);
            return throws
                ? throw new InvalidOperationException("the store is down")
                : new DispatchResult(false, 0, 0, TimeSpan.FromMilliseconds(20));
        }

        public Task StartAsync(CancellationToken ct) => Task.CompletedTask;

        public Task FlushAsync(CancellationToken ct) => Task.CompletedTask;

        public Task CloseAllAsync(CancellationToken ct) => Task.CompletedTask;

        public Task<EntityView?> DescribeAsync(EntityKey key, CancellationToken ct) => Task.FromResult<EntityView?>(null);

        public Task ReconfigureAsync(AnomalyZT.Grains.Config.DetectionConfig config, CancellationToken ct) => Task.CompletedTask;

        public Task StopAsync(CancellationToken ct) => Task.CompletedTask;

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
