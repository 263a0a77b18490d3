using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using AnomalyZT.Silo.Cluster.Bus;

namespace AnomalyZT.Tests.Cluster;

/// <summary>Helpers of the partition bus tests: batches, a delivery sink, polling with a deadline, broker queries.</summary>
internal static class BusTestKit
{
    public static PartitionBus NewBus(RabbitBusOptions options) => new(options, new TestOutputLogger<PartitionBus>());

    /// <summary><paramref name="count"/> batches for <paramref name="partition"/>, ids and bodies <c>{tag}-{i}</c>.</summary>
    public static List<(int Partition, ReadOnlyMemory<byte> Body, string BatchId)> Batches(int partition, string tag, int count, int from = 0)
    {
        var list = new List<(int, ReadOnlyMemory<byte>, string)>(count);
        for (var i = from; i < from + count; i++)
        {
            var id = tag + "-" + i.ToString(CultureInfo.InvariantCulture);
            list.Add((partition, Encoding.UTF8.GetBytes("body:" + id), id));
        }

        return list;
    }

    public static string BodyText(BusDelivery d) => Encoding.UTF8.GetString(d.Body.Span);

    /// <summary>Polls <paramref name="condition"/> until it holds or <paramref name="timeout"/> passes.</summary>
    public static Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string what) =>
        WaitUntilAsync(() => Task.FromResult(condition()), timeout, what);

    /// <summary>Polls <paramref name="condition"/> until it holds or <paramref name="timeout"/> passes.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail(FormattableString.Invariant($"timed out after {timeout.TotalSeconds:0.#} s waiting for {what}"));
            }

            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>(active, waiting) consumers of <paramref name="queue"/> as the broker sees them.</summary>
    public static async Task<(int Active, int Waiting)> ConsumersAsync(RabbitMqFixture broker, string queue)
    {
        var json = await broker.CtlAsync("-q", "list_consumers", "queue_name", "active", "activity_status", "--formatter", "json");
        using var doc = JsonDocument.Parse(json);
        var (active, waiting) = (0, 0);
        foreach (var c in doc.RootElement.EnumerateArray())
        {
            if (c.GetProperty("queue_name").GetString() != queue)
            {
                continue;
            }

            if (c.GetProperty("active").GetBoolean())
            {
                active++;
            }
            else
            {
                waiting++;
            }
        }

        return (active, waiting);
    }

    /// <summary>The broker's view of the queues whose names start with <paramref name="prefix"/>.</summary>
    public static async Task<List<JsonElement>> QueuesAsync(RabbitMqFixture broker, string prefix)
    {
        var json = await broker.CtlAsync("-q", "list_queues", "name", "type", "durable", "arguments", "messages", "--formatter", "json");
        using var doc = JsonDocument.Parse(json);
        return doc.RootElement.EnumerateArray()
            .Where(q => q.GetProperty("name").GetString()!.StartsWith(prefix, StringComparison.Ordinal))
            .Select(q => q.Clone())
            .OrderBy(q => q.GetProperty("name").GetString(), StringComparer.Ordinal)
            .ToList();
    }
}

/// <summary>Collects deliveries of one subscription; optionally acks each one as it arrives.</summary>
internal sealed class DeliverySink
{
    private readonly ConcurrentQueue<BusDelivery> _received = new();
    private readonly bool _ackEach;

    public DeliverySink(bool ackEach = false) => _ackEach = ackEach;

    public PartitionSubscription? Subscription { get; set; }

    public int Count => _received.Count;

    public List<BusDelivery> Received => [.. _received];

    public List<string> Ids => [.. _received.Select(d => d.BatchId)];

    public int Lost { get; private set; }

    public async Task OnDeliveryAsync(BusDelivery delivery)
    {
        _received.Enqueue(delivery);
        if (_ackEach && Subscription is { } subscription)
        {
            await subscription.AckUpToAsync(delivery.DeliveryTag);
        }
    }

    public Task OnLostAsync(BusConsumerLost lost)
    {
        Lost++;
        return Task.CompletedTask;
    }

    public Task WaitForAsync(int count, TimeSpan? timeout = null) =>
        BusTestKit.WaitUntilAsync(() => Count >= count, timeout ?? TimeSpan.FromSeconds(20), FormattableString.Invariant($"{count} deliveries (have {Count})"));
}
