using System.Diagnostics.Metrics;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Grains.Policy;
using AnomalyZT.Silo.Runtime;

namespace AnomalyZT.Silo.Response;

/// <summary>Instruments of the response side, on the silo's meter (<c>AnomalyZT.Silo</c>).</summary>
public sealed class ResponseMetrics : IDisposable
{
    private readonly Meter _meter;
    private readonly Counter<long> _recorded;
    private readonly Counter<long> _delivered;
    private readonly Counter<long> _failed;
    private readonly Counter<long> _retried;
    private readonly Counter<long> _breakerOpened;
    private readonly Counter<long> _allowlisted;
    private readonly Counter<long> _inForce;
    private readonly Histogram<double> _latency;

    /// <summary>Creates the instruments on a meter from <paramref name="factory"/> (or a private meter when null).</summary>
    public ResponseMetrics(IMeterFactory? factory)
    {
        _meter = factory?.Create(RuntimeMetrics.Name) ?? new Meter(RuntimeMetrics.Name);
        _recorded = _meter.CreateCounter<long>("anomalyzt.response.recorded", "{action}", "Actions recorded in the outbox, by kind and state");
        _delivered = _meter.CreateCounter<long>("anomalyzt.response.delivered", "{action}", "Deliveries and restores the provider confirmed, by connector");
        _failed = _meter.CreateCounter<long>("anomalyzt.response.failed", "{action}", "Actions or restores that failed for good, by connector");
        _retried = _meter.CreateCounter<long>("anomalyzt.response.retried", "{attempt}", "Delivery attempts that will be retried, by connector");
        _breakerOpened = _meter.CreateCounter<long>("anomalyzt.response.breaker_opened", "{event}", "Circuit breaker trips, by connector");
        _allowlisted = _meter.CreateCounter<long>("anomalyzt.response.allowlisted", "{match}", "Rule matches on allowlisted identities (never acted on)");
        _inForce = _meter.CreateCounter<long>("anomalyzt.response.already_in_force", "{match}", "Rule matches skipped because the action is already in force");
        _latency = _meter.CreateHistogram<double>("anomalyzt.response.latency", "ms", "From the trigger finding's commit to the provider's confirmation");
    }

    internal void Recorded(ResponseAction a) => _recorded.Add(1, new("kind", ActionNames.Of(a.Kind)), new("state", a.State.ToString()));

    internal void Delivered(string connector, double latencyMs)
    {
        _delivered.Add(1, new KeyValuePair<string, object?>("connector", connector));
        if (latencyMs >= 0)
        {
            _latency.Record(latencyMs, new KeyValuePair<string, object?>("connector", connector));
        }
    }

    internal void Failed(string connector) => _failed.Add(1, new KeyValuePair<string, object?>("connector", connector));

    internal void Retried(string connector) => _retried.Add(1, new KeyValuePair<string, object?>("connector", connector));

    internal void BreakerOpened(string connector) => _breakerOpened.Add(1, new KeyValuePair<string, object?>("connector", connector));

    internal void Allowlisted() => _allowlisted.Add(1);

    internal void AlreadyInForce() => _inForce.Add(1);

    /// <inheritdoc />
    public void Dispose() => _meter.Dispose();
}
