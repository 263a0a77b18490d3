using System.Net;
using System.Net.Http.Json;
using AnomalyZT.Silo.Api;
using AnomalyZT.Silo.Receivers;
using AnomalyZT.Silo.Receivers.Syslog;
using AnomalyZT.Silo.Serialization;
using AnomalyZT.Tests.Response;
using AnomalyZT.Tests.Silo;
using Microsoft.Extensions.DependencyInjection;

namespace AnomalyZT.Tests.Receivers.Syslog;

/// <summary>A real silo with syslog listeners on free loopback ports, the real <c>logger</c> (util-linux) as a client,
/// and bounded waits on the counts <c>GET /v1/receivers</c> reports.</summary>
internal sealed class SyslogReceiverHarness : IAsyncDisposable
{
    public const string FailedAdmin = "Failed password for invalid user admin from 10.1.2.3 port 4242 ssh2";
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan ToolTimeout = TimeSpan.FromSeconds(20);

    private SyslogReceiverHarness(SiloServer silo) => Silo = silo;

    public SiloServer Silo { get; }

    public static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Starts a silo with the given settings (listeners under <c>Syslog:Listeners</c>).</summary>
    public static async Task<SyslogReceiverHarness> StartAsync(IDictionary<string, string?> settings) =>
        new(await SiloServer.StartAsync(settings: settings));

    /// <summary>Settings of one listener at index <paramref name="i"/> on a free port, allowing <paramref name="cidr"/>
    /// as shipper <paramref name="shipper"/> (no allowlist entry when <paramref name="cidr"/> is null).</summary>
    public static Dictionary<string, string?> Listener(int i, string name, string protocol, string shipper, string? cidr)
    {
        var p = $"Syslog:Listeners:{i}:";
        var settings = new Dictionary<string, string?>
        {
            [p + "Name"] = name,
            [p + "Protocol"] = protocol,
            [p + "Port"] = "0",
        };
        if (cidr is not null)
        {
            settings[p + "AllowedSources:0:Name"] = shipper;
            settings[p + "AllowedSources:0:Cidr"] = cidr;
        }

        return settings;
    }

    public IPEndPoint EndPoint(string listener) =>
        Silo.App.Services.GetRequiredService<SyslogReceiverHost>().EndPointOf(listener) ?? throw new InvalidOperationException($"no listener {listener}");

    /// <summary>Runs <c>logger --server 127.0.0.1 --port P</c> with <paramref name="arguments"/> and checks it succeeded.</summary>
    public async Task LoggerAsync(string listener, params string[] arguments)
    {
        var logger = PeerProcess.FindProgram("logger", "/usr/bin", "/bin");
        string[] all = ["--server", "127.0.0.1", "--port", EndPoint(listener).Port.ToString(System.Globalization.CultureInfo.InvariantCulture), .. arguments];
        var (code, output) = await PeerProcess.RunAsync(logger, all, Path.GetTempPath(), null, ToolTimeout, Ct);
        Assert.True(code == 0, $"logger {string.Join(' ', all)} failed ({code}): {output}");
    }

    /// <summary>The rows of <c>GET /v1/receivers</c>.</summary>
    public async Task<List<ReceiverCount>> CountsAsync()
    {
        using var viewer = Silo.Client(SiloServer.ViewerKey);
        return await viewer.GetFromJsonAsync("v1/receivers", AnomalyJsonContext.Default.ListReceiverCount, Ct) ?? [];
    }

    /// <summary>Sums the rows of <paramref name="receiver"/> (and <paramref name="shipper"/> when given).</summary>
    public static ReceiverCount Sum(IEnumerable<ReceiverCount> rows, string receiver, string? shipper = null)
    {
        long a = 0, r = 0, l = 0, f = 0, i = 0;
        foreach (var row in rows.Where(x => x.Receiver == receiver && (shipper is null || x.Shipper == shipper)))
        {
            (a, r, l, f, i) = (a + row.Accepted, r + row.Rejected, l + row.Limited, f + row.Refused, i + row.Ignored);
        }

        return new ReceiverCount(receiver, shipper ?? "*", "*", a, r, l, f, i);
    }

    public static long Messages(ReceiverCount c) => c.Accepted + c.Rejected + c.Limited + c.Refused + c.Ignored;

    /// <summary>Polls the counts until <paramref name="done"/> holds, at most <see cref="Deadline"/>; returns the rows.</summary>
    public async Task<List<ReceiverCount>> WaitForCountsAsync(Func<List<ReceiverCount>, bool> done, string what)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (true)
        {
            var rows = await CountsAsync();
            if (done(rows))
            {
                return rows;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{what} not seen within {Deadline.TotalSeconds:0} s; /v1/receivers: {string.Join("; ", rows)}");
            }

            await Task.Delay(25, Ct);
        }
    }

    /// <summary>Flushes the runtime and answers whether the identity grain of <paramref name="user"/> exists.</summary>
    public async Task<HttpStatusCode> IdentityAsync(string user)
    {
        await Silo.Runtime.FlushAsync(Ct);
        using var viewer = Silo.Client(SiloServer.ViewerKey);
        using var response = await viewer.GetAsync("v1/entities/identity/" + Uri.EscapeDataString(user), Ct);
        return response.StatusCode;
    }

    /// <summary>The dead letters of <paramref name="source"/>.</summary>
    public async Task<DeadLetterItem[]> DeadLettersAsync(string source)
    {
        await Silo.Runtime.FlushAsync(Ct);
        using var viewer = Silo.Client(SiloServer.ViewerKey);
        var letters = await viewer.GetFromJsonAsync("v1/dead-letters", AnomalyJsonContext.Default.DeadLetterItemArray, Ct) ?? [];
        return [.. letters.Where(l => l.Source == source)];
    }

    public async ValueTask DisposeAsync()
    {
        await Silo.DisposeAsync();
        SiloServer.DeleteDirectory(Silo.DataDirectory);
    }
}
