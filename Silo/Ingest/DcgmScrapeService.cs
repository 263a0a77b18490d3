using System.Diagnostics;
using System.Text;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Ingest.Scrape;
using AnomalyZT.Silo.Runtime;
using AnomalyZT.Silo.State;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace AnomalyZT.Silo.Scrape;

/// <summary>Every <see cref="ScrapeOptions.Interval"/>, GETs each of <see cref="ScrapeOptions.Targets"/> (dcgm-exporter
/// <c>/metrics</c>), turns the text into <see cref="GpuSample"/>s and dispatches them with the dead letters of the lines it
/// could not parse (source <c>scrape:&lt;host&gt;</c>). A batch the runtime refuses is kept and retried at the next
/// interval (the latest one per target; a replaced one is counted as dropped).</summary>
internal sealed partial class DcgmScrapeService(
    IGrainRuntime runtime,
    IHttpClientFactory clients,
    IOptions<ScrapeOptions> options,
    RuntimeMetrics metrics,
    TimeProvider time,
    ILogger<DcgmScrapeService> log) : BackgroundService
{
    /// <summary>Name of the <see cref="HttpClient"/> the scraper uses.</summary>
    public const string ClientName = "dcgm-scrape";

    /// <summary>Metrics format tag.</summary>
    public const string Format = "scrape:dcgm";

    private const int MaxLetterPayloadBytes = 1024;

    private readonly Dictionary<string, Pending> _pending = new(StringComparer.Ordinal);
    private long _scrapes;
    private long _failures;
    private long _refused;
    private long _dropped;

    /// <summary>Scrapes that returned a body.</summary>
    public long Scrapes => Interlocked.Read(ref _scrapes);

    /// <summary>Scrapes that failed (connection, timeout, status, size).</summary>
    public long Failures => Interlocked.Read(ref _failures);

    /// <summary>Dispatches the runtime refused (each retried at the next interval).</summary>
    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>Refused batches replaced by a newer one before they were admitted.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (settings.Targets.Count == 0)
        {
            return;
        }

        using var timer = new PeriodicTimer(settings.Interval, time);
        do
        {
            if (!runtime.IsRunning)
            {
                continue;
            }

            foreach (var target in settings.Targets)
            {
                if (stoppingToken.IsCancellationRequested)
                {
                    return;
                }

                await ScrapeOnceAsync(target, settings, stoppingToken).ConfigureAwait(false);
            }
        }
        while (await WaitAsync(timer, stoppingToken).ConfigureAwait(false));
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken ct)
    {
        try
        {
            return await timer.WaitForNextTickAsync(ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Retries the target's refused batch, then scrapes it once and dispatches what it read.</summary>
    internal async Task ScrapeOnceAsync(string target, ScrapeOptions settings, CancellationToken ct)
    {
        if (_pending.Remove(target, out var pending) && !await TryDispatchAsync(target, pending, ct).ConfigureAwait(false))
        {
            return; // still refused: the partitions are full, a fresh scrape would be refused too
        }

        var started = Stopwatch.GetTimestamp();
        var uri = new Uri(target);
        var source = "scrape:" + uri.Host;
        var text = await FetchAsync(uri, settings, ct).ConfigureAwait(false);
        if (text is null)
        {
            return;
        }

        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var parsed = PrometheusTextParser.Parse(text);
        var errors = new List<PrometheusLineError>(parsed.Errors);
        var samples = DcgmSamples.From(parsed.Samples, now, defaultNode: null, errors);
        var letters = errors
            .Select(e => new DeadLetter(0, now, source, e.LineNumber, e.Reason, Payload(e.Line)))
            .ToList();
        var events = samples.Select(s => EngineEvent.From(s)).ToArray();
        var batch = new Pending(events, letters, started);
        if (!await TryDispatchAsync(target, batch, ct).ConfigureAwait(false))
        {
            _pending[target] = batch;
        }
    }

    private async Task<bool> TryDispatchAsync(string target, Pending batch, CancellationToken ct)
    {
        DispatchResult result;
        try
        {
            result = await runtime.DispatchAsync(batch.Events, batch.Letters, ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return true; // stopping: nothing to retry
        }

        if (!result.Admitted)
        {
            Interlocked.Increment(ref _refused);
            if (_pending.ContainsKey(target))
            {
                Interlocked.Increment(ref _dropped);
            }

            metrics.Refused(batch.Events.Length);
            LogRefused(target, batch.Events.Length);
            return false;
        }

        metrics.Ingested(Format, batch.Events.Length, batch.Letters.Count, Stopwatch.GetElapsedTime(batch.Started).TotalSeconds);
        return true;
    }

    private async Task<string?> FetchAsync(Uri uri, ScrapeOptions settings, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(settings.Timeout);
        try
        {
            var client = clients.CreateClient(ClientName);
            using var request = new HttpRequestMessage(HttpMethod.Get, uri);
            request.Headers.Accept.ParseAdd("text/plain; version=0.0.4");
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                return Failed(uri, $"status {(int)response.StatusCode}");
            }

            if (response.Content.Headers.ContentLength > settings.MaxResponseBytes)
            {
                return Failed(uri, $"body of {response.Content.Headers.ContentLength} bytes is over Scrape:MaxResponseBytes");
            }

            var stream = await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                using var buffer = new MemoryStream();
                var chunk = new byte[16 * 1024];
                int read;
                while ((read = await stream.ReadAsync(chunk, timeout.Token).ConfigureAwait(false)) > 0)
                {
                    if (buffer.Length + read > settings.MaxResponseBytes)
                    {
                        return Failed(uri, "body is over Scrape:MaxResponseBytes");
                    }

                    buffer.Write(chunk, 0, read);
                }

                Interlocked.Increment(ref _scrapes);
                return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
            }
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return Failed(uri, $"no answer within Scrape:Timeout ({settings.Timeout})");
        }
        catch (OperationCanceledException)
        {
            return null;
        }
        catch (HttpRequestException e)
        {
            return Failed(uri, e.Message);
        }
        catch (IOException e)
        {
            return Failed(uri, e.Message);
        }
    }

    private string? Failed(Uri uri, string reason)
    {
        Interlocked.Increment(ref _failures);
        LogFailed(uri, reason);
        return null;
    }

    private static byte[] Payload(string line)
    {
        var bytes = Encoding.UTF8.GetBytes(line);
        return bytes.Length <= MaxLetterPayloadBytes ? bytes : bytes[..MaxLetterPayloadBytes];
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Scraping {Target} failed: {Reason}")]
    private partial void LogFailed(Uri target, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The runtime refused {Count} GPU samples scraped from {Target}; retrying at the next interval")]
    private partial void LogRefused(string target, int count);

    private sealed record Pending(EngineEvent[] Events, List<DeadLetter> Letters, long Started);
}

/// <summary>Registers the dcgm-exporter scraper.</summary>
public static class DcgmScrapeServiceCollectionExtensions
{
    /// <summary>Adds <see cref="ScrapeOptions"/> (section <c>Scrape</c>, validated at start), the named
    /// <see cref="HttpClient"/> and the background scraper. Needs <see cref="IGrainRuntime"/>, <see cref="RuntimeMetrics"/>
    /// and <see cref="IConfiguration"/> registered; registers <see cref="TimeProvider.System"/> when none is.</summary>
    public static IServiceCollection AddDcgmScrape(this IServiceCollection services)
    {
        services.AddOptions<ScrapeOptions>()
            .BindConfiguration(ScrapeOptions.SectionName)
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ScrapeOptions>, ScrapeOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.AddHttpClient(DcgmScrapeService.ClientName);
        services.AddSingleton<DcgmScrapeService>();
        services.AddHostedService(sp => sp.GetRequiredService<DcgmScrapeService>());
        return services;
    }
}
