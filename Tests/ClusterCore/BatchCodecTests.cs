using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Grains.Runtime;
using AnomalyZT.Silo.Cluster;

namespace AnomalyZT.Tests.ClusterCore;

public sealed class BatchCodecTests
{
    [Fact]
    public void EveryEventKind_RoundTripsExactly_AndTheTokenNeverTravels()
    {
        RoutedEvent[] events =
        [
            new(new EntityKey(EntityKind.Identity, "alice@corp é"), EventRole.Access, EngineEvent.From(new AccessEvent(
                1_790_000_000_123, "alice@corp é", PrincipalSource.Field, "198.51.100.7", null, "GET", "/v1/models/λ", Outcome.Denied, 403,
                12, 34_567, "edge-1", null, Token: "secret"))),
            new(new EntityKey(EntityKind.Node, "gpu-node-03"), EventRole.FlowSource, EngineEvent.From(new FlowEvent(
                1_790_000_000_456, "10.0.3.4", 51234, "203.0.113.66", 3333, 6, 1, 2, 3, 4, null))),
            new(new EntityKey(EntityKind.Node, "gpu-node-03"), EventRole.Gpu, EngineEvent.From(new GpuSample(
                1_790_000_000_789, "gpu-node-03", "GPU-1234", 1, 99.5, 40_000.25, 301.5, null, "ml"))),
        ];
        var message = new PartitionMessage(PartitionMessageKind.Events, "batch-1:7", 1_790_000_000_789, events);
        var back = BatchCodec.Decode(BatchCodec.Encode(message));
        Assert.Equal((message.Kind, message.BatchId, message.HighWaterMs, message.Correlation), (back.Kind, back.BatchId, back.HighWaterMs, back.Correlation));
        Assert.Equal(events.Length, back.Events.Count);
        Assert.Equal(events[0].Event.Access with { Token = null }, back.Events[0].Event.Access);
        Assert.Equal(events[0].Key, back.Events[0].Key);
        Assert.Equal(events[1].Event.Flow, back.Events[1].Event.Flow);
        Assert.Equal(EventRole.FlowSource, back.Events[1].Role);
        Assert.Equal(events[2].Event.Gpu, back.Events[2].Event.Gpu);
    }

    [Fact]
    public void ControlMessages_RoundTrip()
    {
        var close = BatchCodec.Decode(BatchCodec.Encode(new PartitionMessage(PartitionMessageKind.CloseAll, "c1", 5, [], "corr-9")));
        Assert.Equal((PartitionMessageKind.CloseAll, "corr-9", 0), (close.Kind, close.Correlation, close.Events.Count));
    }

    [Theory]
    [InlineData(new byte[] { })]
    [InlineData(new byte[] { 9, 1 })]
    [InlineData(new byte[] { 1, 7 })]
    [InlineData(new byte[] { 1, 1, 3, (byte)'a' })]
    public void Garbage_IsRefusedWithAClearError(byte[] body) =>
        Assert.Throws<InvalidDataException>(() => BatchCodec.Decode(body));
}
