using System.Collections.Concurrent;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Silo.Runtime;
using AnomalyZT.Silo.Scrape;
using AnomalyZT.Silo.State;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AnomalyZT.Tests.Ingest.Scrape;

public sealed class DcgmScrapeServiceTests
{
    [Fact]
    public async Task Service_ScrapesStub_DispatchesSamplesAndDeadLetters()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var stub = await StartStubAsync(DcgmText.Excerpt + "\nDCGM_FI_DEV_GPU_TEMP{gpu=\"0\" 61\n", ct);
        var runtime = new RecordingRuntime();
        await using var provider = Build(runtime, stub.Url);
        var service = provider.GetRequiredService<DcgmScrapeService>();

        await service.StartAsync(ct);
        await runtime.WaitForAsync(2, ct);
        await service.StopAsync(ct);

        var gpu0 = runtime.Events.First(e => e.Gpu.GpuIndex == 0).Gpu;
        Assert.Equal(("gpu-node-1", "GPU-11111111-2222-3333-4444-555555555555"), (gpu0.Node, gpu0.GpuUuid));
        Assert.Equal((87d, 40960d, 612.345), (gpu0.UtilPct, gpu0.MemUsedMiB, gpu0.PowerW));
        Assert.Equal(("trainer-0", "ml"), (gpu0.Pod, gpu0.Namespace));
        Assert.InRange(gpu0.TimestampMs, DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeMilliseconds(), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        var gpu1 = runtime.Events.First(e => e.Gpu.GpuIndex == 1).Gpu;
        Assert.True(double.IsNaN(gpu1.UtilPct));
        var letter = runtime.Letters.First();
        Assert.Equal("scrape:127.0.0.1", letter.Source);
        Assert.Equal(17, letter.LineNumber);
        Assert.Equal(0, service.Failures);
    }

    [Fact]
    public async Task Service_RefusedBatch_IsRetriedAndCounted()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var stub = await StartStubAsync(DcgmText.Excerpt, ct);
        var runtime = new RecordingRuntime { RefuseNext = 1 };
        await using var provider = Build(runtime, stub.Url);
        var service = provider.GetRequiredService<DcgmScrapeService>();

        await service.StartAsync(ct);
        await runtime.WaitForAsync(2, ct);
        await service.StopAsync(ct);

        Assert.Equal(1, service.Refused);
        Assert.Contains(runtime.Events, e => e.Gpu.GpuIndex == 0 && e.Gpu.UtilPct == 87);
    }

    [Fact]
    public void Validator_RejectsRelativeAndNonHttpTargets()
    {
        Assert.Null(ScrapeOptionsValidator.Check(new ScrapeOptions { Targets = ["http://h:9400/metrics", "https://h/metrics"] }));
        Assert.Contains("Scrape:Targets:0", ScrapeOptionsValidator.Check(new ScrapeOptions { Targets = ["/metrics"] }), StringComparison.Ordinal);
        Assert.NotNull(ScrapeOptionsValidator.Check(new ScrapeOptions { Targets = ["ftp://h/metrics"] }));
        Assert.NotNull(ScrapeOptionsValidator.Check(new ScrapeOptions { Interval = TimeSpan.Zero }));
        Assert.NotNull(ScrapeOptionsValidator.Check(new ScrapeOptions { Timeout = TimeSpan.Zero }));
    }

    [Fact]
    public async Task AddDcgmScrape_BadTarget_FailsAtStart()
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Scrape:Targets:0"] = "nope" }).Build();
        var services = new ServiceCollection().AddSingleton<IConfiguration>(config).AddDcgmScrape();
        await using var provider = services.BuildServiceProvider();

        var e = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<ScrapeOptions>>().Value);
        Assert.Contains("absolute http(s) URL", e.Message, StringComparison.Ordinal);
    }

    private static ServiceProvider Build(RecordingRuntime runtime, string url)
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Scrape:Targets:0"] = url,
            ["Scrape:Interval"] = "00:00:00.050",
            ["Scrape:Timeout"] = "00:00:05",
        }).Build();
        var services = new ServiceCollection()
            .AddLogging()
            .AddSingleton<IConfiguration>(config)
            .AddSingleton<IGrainRuntime>(runtime)
            .AddSingleton(new RuntimeMetrics(null))
            .AddDcgmScrape();
        return services.BuildServiceProvider();
    }

    private static async Task<Stub> StartStubAsync(string body, CancellationToken ct)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.MapGet("/metrics", () => Results.Text(body, "text/plain; version=0.0.4"));
        await app.StartAsync(ct);
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        return new Stub(app, address + "/metrics");
    }

    private sealed record Stub(WebApplication App, string Url) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => App.DisposeAsync();
    }

    private sealed class RecordingRuntime : IGrainRuntime
    {
        private readonly ConcurrentQueue<EngineEvent> _events = new();
        private readonly ConcurrentQueue<DeadLetter> _letters = new();

        public int RefuseNext { get; set; }

        public IReadOnlyCollection<EngineEvent> Events => _events;

        public IReadOnlyCollection<DeadLetter> Letters => _letters;

        public int PartitionCount => 1;

        public bool IsRunning => true;

        public DispatchResult TryDispatch(ReadOnlySpan<EngineEvent> events, IReadOnlyList<DeadLetter> deadLetters)
        {
            if (RefuseNext > 0)
            {
                RefuseNext--;
                return new DispatchResult(false, 0, 0, TimeSpan.FromMilliseconds(50));
            }

            foreach (var e in events)
            {
                _events.Enqueue(e);
            }

            foreach (var l in deadLetters)
            {
                _letters.Enqueue(l);
            }

            return new DispatchResult(true, events.Length, 0, TimeSpan.Zero);
        }

        public async Task WaitForAsync(int count, CancellationToken ct)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(20));
            while (_events.Count < count)
            {
                await Task.Delay(10, timeout.Token);
            }
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
