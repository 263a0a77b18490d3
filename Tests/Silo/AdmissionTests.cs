using AnomalyZT.Grains.Config;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Grains.Runtime;
using AnomalyZT.Silo.Runtime;
using Microsoft.Extensions.Logging.Abstractions;

namespace AnomalyZT.Tests.Silo;

public sealed class AdmissionTests
{
    private static EmbeddedRuntime Runtime(int partitions = 1, int capacity = 16) => new(
        new EmbeddedRuntimeOptions { Partitions = partitions, QueueCapacity = capacity },
        DetectionConfig.Default, store: null, onFindings: null, new RuntimeMetrics(null), TimeProvider.System, NullLogger<EmbeddedRuntime>.Instance);

    [Fact]
    public async Task TryReserve_BeyondCapacity_Refuses_EmptyQueueAlwaysAdmits()
    {
        await using var runtime = Runtime();
        var worker = new PartitionWorker(new Partition(0, DetectionConfig.Default), runtime, capacity: 16);
        Assert.True(worker.TryReserve(10));
        Assert.False(worker.TryReserve(10));
        Assert.True(worker.TryReserve(6));
        Assert.Equal(16, worker.Depth);
        worker.Unreserve(16);
        Assert.True(worker.TryReserve(100)); // one oversized body still makes progress
    }

    [Fact]
    public async Task TryDispatch_NotStarted_RefusesAndHoldsNothing()
    {
        await using var runtime = Runtime(partitions: 4);
        var e = EngineEvent.From(new AccessEvent(1, "a", PrincipalSource.Field, null, null, null, null, Outcome.Success, 200, 0, 0, null, null));
        var result = runtime.TryDispatch([e], []);
        Assert.False(result.Admitted);
        Assert.True(result.RetryAfter > TimeSpan.Zero);
    }

    [Fact]
    public async Task TryDispatch_Started_AdmitsAndCountsUnattributedFlows()
    {
        await using var runtime = Runtime(partitions: 4);
        await runtime.StartAsync(TestContext.Current.CancellationToken);
        var internet = EngineEvent.From(new FlowEvent(1, "198.51.100.1", 1, "203.0.113.9", 443, 6, 1, 1, 1, 1, null));
        var lan = EngineEvent.From(new FlowEvent(1, "10.0.0.1", 1, "10.0.0.2", 443, 6, 1, 1, 1, 1, null));
        var result = runtime.TryDispatch([internet, lan], []);
        Assert.True(result.Admitted);
        Assert.Equal(1, result.Unattributed);
        Assert.Equal(2, result.Routed); // both ends of the LAN flow are nodes
        await runtime.FlushAsync(TestContext.Current.CancellationToken);
        Assert.NotNull(await runtime.DescribeAsync(new EntityKey(EntityKind.Node, "10.0.0.2"), TestContext.Current.CancellationToken));
    }
}
