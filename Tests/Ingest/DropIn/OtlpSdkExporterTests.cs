using System.Diagnostics.Metrics;
using System.Net;
using System.Text.Json;
using AnomalyZT.Tests.Silo;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;

namespace AnomalyZT.Tests.Ingest.DropIn;

/// <summary>The real OpenTelemetry .NET SDK's OTLP exporter (protocol http/protobuf, the encoding the Collector's
/// <c>otlphttp</c> exporter uses by default) sending logs and dcgm-named gauges to a real silo.</summary>
public sealed class OtlpSdkExporterTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task SdkLogs_OverHttpProtobuf_BecomeAccessEvents_CountedForTheShipper()
    {
        await using var silo = await SiloServer.StartAsync();
        using (var factory = LoggerFactory.Create(b => b.AddOpenTelemetry(o =>
               {
                   o.ParseStateValues = true;
                   o.AddOtlpExporter((exporter, processor) =>
                   {
                       Configure(exporter, silo, "v1/logs");
                       processor.ExportProcessorType = ExportProcessorType.Simple;
                   });
               })))
        {
            var logger = factory.CreateLogger("envoy");
            List<KeyValuePair<string, object?>> access =
            [
                new("user.name", "sdk-alice@corp"),
                new("client.address", "198.51.100.7"),
                new("url.path", "/v1/models/llama"),
                new("http.request.method", "GET"),
                new("http.response.status_code", 200),
            ];
            for (var i = 0; i < 3; i++)
            {
                logger.Log(LogLevel.Information, new EventId(1), access, null, static (_, _) => "GET /v1/models/llama");
            }

            // No principal and no address: the exporter delivers it, the silo rejects and dead-letters it.
            List<KeyValuePair<string, object?>> nobody = [new("note", "nobody")];
            logger.Log(LogLevel.Information, new EventId(2), nobody, null, static (_, _) => "nothing");
        }

        await silo.Runtime.FlushAsync(Ct);
        using var viewer = silo.Client(SiloServer.ViewerKey);
        using var entity = await viewer.GetAsync("v1/entities/identity/sdk-alice@corp", Ct);
        Assert.Equal(HttpStatusCode.OK, entity.StatusCode);
        var row = await ReceiverRowAsync(viewer, "otlp:logs");
        Assert.Equal("shipper", row.GetProperty("shipper").GetString());
        Assert.Equal("otlp-protobuf", row.GetProperty("format").GetString());
        Assert.Equal(3, row.GetProperty("accepted").GetInt64());
        Assert.Equal(1, row.GetProperty("rejected").GetInt64());
    }

    [Fact]
    public async Task SdkGauges_NamedLikeDcgm_OverHttpProtobuf_BecomeGpuSamples()
    {
        await using var silo = await SiloServer.StartAsync();
        using var meter = new Meter("dcgm-exporter-test");
        meter.CreateObservableGauge("DCGM_FI_DEV_GPU_UTIL", () => new Measurement<double>(93,
            new KeyValuePair<string, object?>("Hostname", "sdk-gpu-1"), new KeyValuePair<string, object?>("gpu", "0"),
            new KeyValuePair<string, object?>("UUID", "GPU-sdk-0")));
        meter.CreateObservableGauge("DCGM_FI_DEV_FB_USED", () => new Measurement<long>(40_000,
            new KeyValuePair<string, object?>("Hostname", "sdk-gpu-1"), new KeyValuePair<string, object?>("gpu", "0"),
            new KeyValuePair<string, object?>("UUID", "GPU-sdk-0")));
        meter.CreateObservableGauge("process_cpu_seconds", () => 1.0);
        using (var provider = Sdk.CreateMeterProviderBuilder()
                   .AddMeter(meter.Name)
                   .AddOtlpExporter((exporter, reader) =>
                   {
                       Configure(exporter, silo, "v1/metrics");
                       reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = 60_000;
                   })
                   .Build())
        {
            Assert.True(provider.ForceFlush(10_000));
        }

        await silo.Runtime.FlushAsync(Ct);
        using var viewer = silo.Client(SiloServer.ViewerKey);
        using var entity = await viewer.GetAsync("v1/entities/node/sdk-gpu-1", Ct);
        Assert.Equal(HttpStatusCode.OK, entity.StatusCode);
        var row = await ReceiverRowAsync(viewer, "otlp:metrics");
        Assert.Equal(2, row.GetProperty("accepted").GetInt64()); // two dcgm points, one sample; the CPU gauge is skipped
        Assert.Equal(0, row.GetProperty("rejected").GetInt64());
    }

    private static void Configure(OtlpExporterOptions exporter, SiloServer silo, string path)
    {
        exporter.Protocol = OtlpExportProtocol.HttpProtobuf;
        exporter.Endpoint = new Uri(silo.BaseAddress, path);
        exporter.Headers = "Authorization=Bearer " + SiloServer.ShipperKey;
        exporter.TimeoutMilliseconds = 10_000;
    }

    private static async Task<JsonElement> ReceiverRowAsync(HttpClient viewer, string receiver)
    {
        using var json = JsonDocument.Parse(await viewer.GetStringAsync("v1/receivers", Ct));
        foreach (var row in json.RootElement.EnumerateArray())
        {
            if (row.GetProperty("receiver").GetString() == receiver)
            {
                return row.Clone();
            }
        }

        throw new Xunit.Sdk.XunitException($"no /v1/receivers row for {receiver}: {json.RootElement}");
    }
}
