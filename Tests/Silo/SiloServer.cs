using System.Net.Http.Headers;
using AnomalyZT.Silo.Hosting;
using AnomalyZT.Silo.Runtime;
using AnomalyZT.Silo.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AnomalyZT.Tests.Silo;

/// <summary>A real silo on a free loopback port with its own data folder and known keys.</summary>
internal sealed class SiloServer : IAsyncDisposable
{
    public const string AdminKey = "test-admin-key-0123456789";
    public const string ShipperKey = "test-shipper-key-0123456789";
    public const string ViewerKey = "test-viewer-key-0123456789";

    private SiloServer(WebApplication app, string dataDirectory, Uri baseAddress)
    {
        App = app;
        DataDirectory = dataDirectory;
        BaseAddress = baseAddress;
    }

    public WebApplication App { get; }

    public string DataDirectory { get; }

    public Uri BaseAddress { get; }

    public IGrainRuntime Runtime => App.Services.GetRequiredService<IGrainRuntime>();

    public static async Task<SiloServer> StartAsync(string? dataDirectory = null, IDictionary<string, string?>? settings = null)
    {
        dataDirectory ??= NewDataDirectory();
        var app = SiloHost.Build([], builder =>
        {
            var values = new Dictionary<string, string?>
            {
                ["Urls"] = "http://127.0.0.1:0",
                ["State:DataDirectory"] = dataDirectory,
                ["Runtime:Partitions"] = "4",
                ["Runtime:CheckpointInterval"] = "00:00:00.200",
                ["Auth:Keys:0:Name"] = "admin",
                ["Auth:Keys:0:Role"] = Roles.Admin,
                ["Auth:Keys:0:Sha256"] = ApiKeyRegistry.Hash(AdminKey),
                ["Auth:Keys:1:Name"] = "shipper",
                ["Auth:Keys:1:Role"] = Roles.Shipper,
                ["Auth:Keys:1:Sha256"] = ApiKeyRegistry.Hash(ShipperKey),
                ["Auth:Keys:2:Name"] = "viewer",
                ["Auth:Keys:2:Role"] = Roles.Viewer,
                ["Auth:Keys:2:Sha256"] = ApiKeyRegistry.Hash(ViewerKey),
            };
            foreach (var (k, v) in settings ?? new Dictionary<string, string?>())
            {
                values[k] = v;
            }

            builder.Configuration.AddInMemoryCollection(values);
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        return new SiloServer(app, dataDirectory, new Uri(address + "/"));
    }

    public static string NewDataDirectory() => Path.Combine(Path.GetTempPath(), "anomalyzt-test-" + Guid.NewGuid().ToString("N"));

    public HttpClient Client(string? key)
    {
        var client = new HttpClient { BaseAddress = BaseAddress };
        if (key is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        return client;
    }

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
    }

    public static void DeleteDirectory(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
