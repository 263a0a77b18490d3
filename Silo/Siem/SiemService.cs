using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using AnomalyZT.Silo.Response;
using AnomalyZT.Silo.Runtime;
using AnomalyZT.Silo.Siem.Encoders;
using AnomalyZT.Silo.Siem.Sinks;
using AnomalyZT.Silo.State;
using Microsoft.Extensions.Options;

namespace AnomalyZT.Silo.Siem;

/// <summary>Instruments of the SIEM sinks, on the silo's meter: delivered, retried and lag per sink.</summary>
public sealed class SiemMetrics : IDisposable
{
    private readonly Meter _meter;
    private readonly ConcurrentDictionary<string, SinkWorker> _workers = new(StringComparer.Ordinal);

    /// <summary>Creates the instruments on a meter from <paramref name="factory"/> (or a private meter when null).</summary>
    public SiemMetrics(IMeterFactory? factory)
    {
        _meter = factory?.Create(RuntimeMetrics.Name) ?? new Meter(RuntimeMetrics.Name);
        Delivered = _meter.CreateCounter<long>("anomalyzt.siem.delivered", "{record}", "Records a SIEM sink confirmed, by sink");
        Retried = _meter.CreateCounter<long>("anomalyzt.siem.retried", "{send}", "Failed SIEM sends that will be retried, by sink");
        _meter.CreateObservableGauge("anomalyzt.siem.lag", () => _workers.Values.Select(w =>
            new Measurement<long>(w.Health.Lag, new KeyValuePair<string, object?>("sink", w.Name))), "{record}", "Records stored but not yet delivered, by sink");
    }

    internal Counter<long> Delivered { get; }

    internal Counter<long> Retried { get; }

    internal void Watch(SinkWorker worker) => _workers[worker.Name] = worker;

    /// <inheritdoc />
    public void Dispose() => _meter.Dispose();
}

/// <summary>Builds sinks from <see cref="SiemSinkOptions"/>.</summary>
public static class SiemSinkFactory
{
    /// <summary>The sink <paramref name="o"/> describes.</summary>
    public static IRecordSink Create(string name, SiemSinkOptions o, HttpClient http, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(o);
        return o.Type switch
        {
            SiemSinkTypes.File => new FileSink(name, o.Path, o.MaxFileBytes, o.MaxFiles),
            SiemSinkTypes.Webhook => new WebhookSink(name, new Uri(o.Url), o.HmacKey, http, o.Timeout, time),
            SiemSinkTypes.Hec => new HecSink(name, new Uri(o.Url.EndsWith('/') ? o.Url : o.Url + "/"), o.Token, o.UseAck, http, o.Timeout),
            _ => SyslogSinks.Create(name, o),
        };
    }
}

/// <summary>Runs one delivery loop per configured sink, woken when records are committed.</summary>
public sealed partial class SiemService(
    IStateStore store,
    IOptions<SiemOptions> options,
    HttpClient http,
    TimeProvider time,
    SiemMetrics metrics,
    Cluster.Leadership leadership,
    ILoggerFactory logs) : BackgroundService
{
    private readonly List<(SinkWorker Worker, WakeSignal Wake)> _workers = [];
    private readonly ILogger _logger = logs.CreateLogger<SiemService>();

    /// <summary>Every sink's state.</summary>
    public IReadOnlyList<SinkHealth> Health => [.. _workers.Select(w => w.Worker.Health)];

    /// <summary>Wakes every sink (records were committed).</summary>
    public void Wake()
    {
        foreach (var (_, wake) in _workers)
        {
            wake.Set();
        }
    }

    /// <inheritdoc />
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        var records = (IRecordStore)store;
        var logger = logs.CreateLogger<SinkWorker>();
        foreach (var (name, o) in options.Value.Sinks.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            var sink = SiemSinkFactory.Create(name, o, http, time);
            var encoder = SiemFormats.Create(o.EffectiveFormat, string.IsNullOrEmpty(o.Hostname) ? null : o.Hostname);
            if (encoder is HecEncoder && o.Index.Length > 0)
            {
                encoder = new HecEncoder(string.IsNullOrEmpty(o.Hostname) ? Environment.MachineName : o.Hostname) { Index = o.Index };
            }

            _workers.Add((new SinkWorker(records, sink, encoder, o, time, metrics, logger), new WakeSignal()));
        }

        await base.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await store.InitializeAsync(stoppingToken).ConfigureAwait(false);
        await Task.WhenAll(_workers.Select(w => LoopAsync(w.Worker, w.Wake, stoppingToken))).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        foreach (var (worker, wake) in _workers)
        {
            await worker.DisposeAsync().ConfigureAwait(false);
            wake.Dispose();
        }
    }

    private async Task LoopAsync(SinkWorker worker, WakeSignal wake, CancellationToken ct)
    {
        var epoch = 0;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                if (!leadership.IsLeader)
                {
                    await wake.WaitAsync(options.Value.PollInterval, ct).ConfigureAwait(false);
                    continue;
                }

                if (leadership.Epoch != epoch)
                {
                    epoch = leadership.Epoch;
                    worker.Reset();
                }

                await worker.RunOnceAsync(ct).ConfigureAwait(false);
                if (worker.Backoff > TimeSpan.Zero)
                {
                    await Task.Delay(worker.Backoff, time, ct).ConfigureAwait(false);
                }
                else
                {
                    await wake.WaitAsync(options.Value.PollInterval, ct).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogLoopFailed(ex, worker.Name);
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(2), time, ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    [LoggerMessage(EventId = 5003, Level = LogLevel.Error, Message = "The delivery loop of SIEM sink {Sink} failed; retrying")]
    private partial void LogLoopFailed(Exception ex, string sink);
}
