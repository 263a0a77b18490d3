using System.Diagnostics;
using System.Security.Cryptography;
using AnomalyZT.Silo.Hosting;
using AnomalyZT.Silo.Receivers;
using AnomalyZT.Silo.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace AnomalyZT.Benchmarks;

/// <summary>What the load generators share: an in-process silo on loopback with its own temp folder, warnings only,
/// the per-shipper rate limit off and an admin key nobody knows, plus waiting for a receiver's counts to settle.</summary>
internal static class LoadSilo
{
    /// <summary>Starts a silo with the base settings plus <paramref name="settings"/> (given the temp folder), runs
    /// <paramref name="measure"/>, then stops the silo and deletes the folder.</summary>
    public static async Task<int> RunAsync(string name, Func<string, Dictionary<string, string?>> settings, Func<WebApplication, string, Task<int>> measure)
    {
        var dir = Path.Combine(Path.GetTempPath(), "anomalyzt-" + name + "-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            var values = new Dictionary<string, string?>
            {
                ["Urls"] = "http://127.0.0.1:0",
                ["State:DataDirectory"] = Path.Combine(dir, "data"),
                ["Auth:Keys:0:Name"] = "admin",
                ["Auth:Keys:0:Role"] = Roles.Admin,
                ["Auth:Keys:0:Sha256"] = ApiKeyRegistry.Hash(Convert.ToHexString(RandomNumberGenerator.GetBytes(24))),
                ["Ingest:RateLimit:EventsPerSecond"] = "0",
            };
            foreach (var (key, value) in settings(dir))
            {
                values[key] = value;
            }

            var app = SiloHost.Build([], builder =>
            {
                builder.Configuration.AddInMemoryCollection(values);
                builder.Logging.SetMinimumLevel(LogLevel.Warning);
            });
            await app.StartAsync();
            try
            {
                return await measure(app, dir);
            }
            finally
            {
                await app.StopAsync();
                await app.DisposeAsync();
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>Waits until <paramref name="counted"/> reaches <paramref name="expected"/> or stops moving for a second;
    /// returns the time on <paramref name="clock"/> of its last change.</summary>
    public static async Task<TimeSpan> SettleAsync(Func<long> counted, long expected, Stopwatch clock)
    {
        var (last, lastChange) = (counted(), clock.Elapsed);
        while (counted() < expected && clock.Elapsed - lastChange < TimeSpan.FromSeconds(1))
        {
            await Task.Delay(20);
            if (counted() is var now && now != last)
            {
                (last, lastChange) = (now, clock.Elapsed);
            }
        }

        return lastChange;
    }

    /// <summary>Everything a receiver has counted, whatever the outcome.</summary>
    public static long Counted(ReceiverStats stats, string receiver)
    {
        var t = stats.Total(receiver);
        return t.Accepted + t.Rejected + t.Limited + t.Refused + t.Ignored;
    }
}
