using System.Diagnostics.Metrics;
using AnomalyZT.Silo.Runtime;

namespace AnomalyZT.Silo.Cluster.Bus;

/// <summary>Instruments of the partition bus, on the silo's meter (<c>AnomalyZT.Silo</c>).</summary>
internal sealed class BusMetrics : IDisposable
{
    private readonly Meter _meter;
    private readonly Counter<long> _published;
    private readonly Counter<long> _publishFailed;
    private readonly Histogram<double> _confirmSeconds;
    private readonly Counter<long> _delivered;
    private readonly Counter<long> _acked;
    private readonly Counter<long> _connectionsLost;
    private readonly Counter<long> _connected;
    private readonly Counter<long> _consumersLost;
    private readonly Counter<long> _blocked;

    public BusMetrics(IMeterFactory? factory)
    {
        _meter = factory?.Create(RuntimeMetrics.Name) ?? new Meter(RuntimeMetrics.Name);
        _published = _meter.CreateCounter<long>("anomalyzt.bus.published", "{batch}", "Batches the broker confirmed");
        _publishFailed = _meter.CreateCounter<long>("anomalyzt.bus.publish_failed", "{call}", "Publish calls that failed, by reason (blocked, timeout, nack, unavailable, unroutable)");
        _confirmSeconds = _meter.CreateHistogram<double>("anomalyzt.bus.publish.duration", "s", "Time for one publish call until every batch is confirmed");
        _delivered = _meter.CreateCounter<long>("anomalyzt.bus.delivered", "{batch}", "Batches delivered to partition consumers");
        _acked = _meter.CreateCounter<long>("anomalyzt.bus.acked", "{ack}", "Cumulative acks sent by partition consumers");
        _connectionsLost = _meter.CreateCounter<long>("anomalyzt.bus.connection_lost", "{event}", "Broker connections lost, by role");
        _connected = _meter.CreateCounter<long>("anomalyzt.bus.connected", "{event}", "Broker connections opened, by role");
        _consumersLost = _meter.CreateCounter<long>("anomalyzt.bus.consumer_lost", "{event}", "Partition consumer registrations lost (their unacked batches return to the queue)");
        _blocked = _meter.CreateCounter<long>("anomalyzt.bus.blocked", "{event}", "connection.blocked notifications from the broker (resource alarms)");
    }

    public void Published(int batches, double seconds)
    {
        _published.Add(batches);
        _confirmSeconds.Record(seconds);
    }

    public void PublishFailed(string reason) => _publishFailed.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void Delivered() => _delivered.Add(1);

    public void Acked() => _acked.Add(1);

    public void ConnectionLost(string role) => _connectionsLost.Add(1, new KeyValuePair<string, object?>("role", role));

    public void Connected(string role) => _connected.Add(1, new KeyValuePair<string, object?>("role", role));

    public void ConsumerLost() => _consumersLost.Add(1);

    public void Blocked() => _blocked.Add(1);

    public void Dispose() => _meter.Dispose();
}
