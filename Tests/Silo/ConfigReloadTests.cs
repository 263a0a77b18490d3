using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AnomalyZT.Silo.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace AnomalyZT.Tests.Silo;

public sealed class ConfigReloadTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 20, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task ChangedFile_IsAppliedWithoutRestart_InvalidChangeRefusedAndRunningConfigStays()
    {
        var data = SiloServer.NewDataDirectory();
        Directory.CreateDirectory(data);
        var file = Path.Combine(data, "detectors.yaml");
        await File.WriteAllTextAsync(file, "version: v1\n", TestContext.Current.CancellationToken);
        try
        {
            await using var server = await SiloServer.StartAsync(data, new Dictionary<string, string?> { ["Runtime:DetectorsFile"] = file });
            var body = new StringBuilder();
            for (var i = 0; i < 12; i++)
            {
                body.Append(IngestApiTests.EnvoyLine(T0.AddMinutes(10 * i), "svc-c", 5000)).Append('\n');
            }

            using var client = server.Client(SiloServer.ShipperKey);
            (await client.PostAsync("v1/ingest/envoy", new StringContent(body.ToString()), TestContext.Current.CancellationToken)).EnsureSuccessStatusCode();
            await server.Runtime.FlushAsync(TestContext.Current.CancellationToken);
            var watcher = server.App.Services.GetRequiredService<DetectionConfigWatcher>();

            // Change only bytes_out: requests keeps its baseline, bytes_out starts warming up again.
            await File.WriteAllTextAsync(file, "version: v2\nfeatures:\n  bytes_out: { robust_level: { threshold: 9 } }\n", TestContext.Current.CancellationToken);
            await watcher.CheckAsync(TestContext.Current.CancellationToken);
            using var viewer = server.Client(SiloServer.ViewerKey);
            var status = await viewer.GetFromJsonAsync<JsonElement>("v1/config", TestContext.Current.CancellationToken);
            Assert.Equal("v2", status.GetProperty("version").GetString());
            var entity = (await viewer.GetFromJsonAsync<JsonElement>("v1/entities/identity/svc-c", TestContext.Current.CancellationToken)).GetProperty("entity");
            Assert.Equal("v2", entity.GetProperty("configVersion").GetString());
            var features = entity.GetProperty("features").EnumerateArray().ToDictionary(f => f.GetProperty("name").GetString()!, f => f.GetProperty("baselineCount").GetInt32());
            Assert.Equal(10, features["requests"]);
            Assert.Equal(0, features["bytes_out"]);

            await File.WriteAllTextAsync(file, "version: v3\nfeatures:\n  bytes_out: { robust_level: { threshold: -2 } }\n", TestContext.Current.CancellationToken);
            await watcher.CheckAsync(TestContext.Current.CancellationToken);
            status = await viewer.GetFromJsonAsync<JsonElement>("v1/config", TestContext.Current.CancellationToken);
            Assert.Equal("v2", status.GetProperty("version").GetString());
            Assert.Contains("features.bytes_out.robust_level.threshold is '-2'", status.GetProperty("lastError").GetString(), StringComparison.Ordinal);
        }
        finally
        {
            SiloServer.DeleteDirectory(data);
        }
    }
}
