using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using AnomalyZT.Silo.Receivers.Syslog;
using H = AnomalyZT.Tests.Receivers.Syslog.SyslogReceiverHarness;

namespace AnomalyZT.Tests.Receivers.Syslog;

/// <summary>The syslog listeners over real loopback sockets, fed by the real <c>logger</c> (util-linux).</summary>
public sealed class SyslogReceiverTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Udp_LoggerSshdLinesInBothFormats_ReachTheIdentityGrain_AndTheCountsAddUp()
    {
        await using var h = await H.StartAsync(H.Listener(0, "udp", "Udp", "udp-lab", "127.0.0.0/8"));
        await h.LoggerAsync("udp", "--udp", "--rfc5424", "-t", "sshd", H.FailedAdmin);
        await h.LoggerAsync("udp", "--udp", "--rfc3164", "-t", "sshd", "Accepted publickey for udp-alice from 10.1.2.4 port 4243 ssh2");
        await h.LoggerAsync("udp", "--udp", "-t", "CRON", "(root) CMD (run-parts /etc/cron.hourly)");

        var rows = await h.WaitForCountsAsync(r => H.Messages(H.Sum(r, "syslog:udp")) >= 3, "3 UDP messages");
        Assert.Contains(rows, r => r is { Receiver: "syslog:udp", Shipper: "udp-lab", Format: "rfc5424", Accepted: 1, Ignored: 1 });
        Assert.Contains(rows, r => r is { Receiver: "syslog:udp", Shipper: "udp-lab", Format: "rfc3164", Accepted: 1 });
        Assert.Equal(3, H.Messages(H.Sum(rows, "syslog:udp")));
        Assert.Equal(HttpStatusCode.OK, await h.IdentityAsync("admin"));
        Assert.Equal(HttpStatusCode.OK, await h.IdentityAsync("udp-alice"));
    }

    [Fact]
    public async Task Tcp_LfAndOctetCountedFraming_AreBothRead_AMalformedLineIsDeadLettered()
    {
        await using var h = await H.StartAsync(H.Listener(0, "tcp", "Tcp", "tcp-lab", "127.0.0.1"));
        await h.LoggerAsync("tcp", "--tcp", "-t", "sshd", "Failed password for tcp-bob from 10.1.2.5 port 4244 ssh2");
        await h.LoggerAsync("tcp", "--tcp", "--octet-count", "--rfc3164", "-t", "sshd", "Invalid user tcp-carol from 10.1.2.6 port 4245");
        using (var raw = new TcpClient())
        {
            await raw.ConnectAsync(h.EndPoint("tcp"), Ct);
            await raw.GetStream().WriteAsync("no priority, not syslog at all\n"u8.ToArray(), Ct);
        }

        var rows = await h.WaitForCountsAsync(r => H.Messages(H.Sum(r, "syslog:tcp")) >= 3, "3 TCP messages");
        Assert.Equal(new(2, 1), (H.Sum(rows, "syslog:tcp", "tcp-lab").Accepted, H.Sum(rows, "syslog:tcp", "tcp-lab").Rejected));
        Assert.Contains(rows, r => r is { Receiver: "syslog:tcp", Shipper: "tcp-lab", Format: "syslog", Rejected: 1 });
        Assert.Equal(HttpStatusCode.OK, await h.IdentityAsync("tcp-bob"));
        Assert.Equal(HttpStatusCode.OK, await h.IdentityAsync("tcp-carol"));
        var letter = Assert.Single(await h.DeadLettersAsync("syslog:tcp"));
        Assert.StartsWith("syslog:", letter.Reason, StringComparison.Ordinal);
        Assert.Contains("not syslog at all", letter.Payload, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NonAuthLines_CanBeDeadLettered_AndAreStillCountedIgnored()
    {
        var settings = H.Listener(0, "tcp", "Tcp", "tcp-lab", "127.0.0.1");
        settings["Syslog:NonAuthLines"] = "DeadLetter";
        await using var h = await H.StartAsync(settings);
        await h.LoggerAsync("tcp", "--tcp", "-t", "sshd", "Server listening on 0.0.0.0 port 22.");

        var rows = await h.WaitForCountsAsync(r => H.Sum(r, "syslog:tcp").Ignored >= 1, "1 ignored line");
        Assert.Equal(1, H.Messages(H.Sum(rows, "syslog:tcp")));
        var letter = Assert.Single(await h.DeadLettersAsync("syslog:tcp"));
        Assert.StartsWith("not an sshd authentication line", letter.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASourceOutsideAllowedSources_IsRefusedAndCounted_NothingIsTakenOrDeadLettered()
    {
        var settings = H.Listener(0, "udp", "Udp", "far-udp", "10.9.0.0/16");
        foreach (var (k, v) in H.Listener(1, "tcp", "Tcp", "far-tcp", "10.9.0.0/16"))
        {
            settings[k] = v;
        }

        await using var h = await H.StartAsync(settings);
        await h.LoggerAsync("udp", "--udp", "-t", "sshd", "Failed password for intruder-u from 10.1.2.3 port 1 ssh2");
        await h.LoggerAsync("tcp", "--tcp", "-t", "sshd", "Failed password for intruder-t from 10.1.2.3 port 1 ssh2");

        var rows = await h.WaitForCountsAsync(
            r => H.Sum(r, "syslog:udp", "unknown-source").Rejected >= 1 && H.Sum(r, "syslog:tcp", "unknown-source").Rejected >= 1, "refusals");
        Assert.Equal(0, H.Sum(rows, "syslog:udp").Accepted + H.Sum(rows, "syslog:tcp").Accepted);
        Assert.Equal(HttpStatusCode.NotFound, await h.IdentityAsync("intruder-u"));
        Assert.Equal(HttpStatusCode.NotFound, await h.IdentityAsync("intruder-t"));
        Assert.Empty(await h.DeadLettersAsync("syslog:udp"));
        Assert.Empty(await h.DeadLettersAsync("syslog:tcp"));
    }

    [Fact]
    public async Task Udp_OverTheShippersRateLimit_IsCountedLimited()
    {
        var settings = H.Listener(0, "udp", "Udp", "udp-slow", "127.0.0.1");
        settings["Ingest:RateLimit:Shippers:udp-slow:EventsPerSecond"] = "1";
        settings["Ingest:RateLimit:Shippers:udp-slow:Burst"] = "2";
        await using var h = await H.StartAsync(settings);
        var file = await LinesFileAsync("udp-limited", 20);
        try
        {
            await h.LoggerAsync("udp", "--udp", "-t", "sshd", "-f", file);
        }
        finally
        {
            File.Delete(file);
        }

        var rows = await h.WaitForCountsAsync(r => H.Messages(H.Sum(r, "syslog:udp")) >= 20, "20 UDP messages");
        var total = H.Sum(rows, "syslog:udp", "udp-slow");
        Assert.Equal(20, H.Messages(total));
        Assert.InRange(total.Limited, 10, 19);
        Assert.Equal(20 - total.Limited, total.Accepted);
    }

    [Fact]
    public async Task Tcp_OverTheShippersRateLimit_IsDelayedNotDropped()
    {
        var settings = H.Listener(0, "tcp", "Tcp", "tcp-slow", "127.0.0.1");
        settings["Ingest:RateLimit:Shippers:tcp-slow:EventsPerSecond"] = "1";
        settings["Ingest:RateLimit:Shippers:tcp-slow:Burst"] = "1";
        await using var h = await H.StartAsync(settings);
        var clock = Stopwatch.StartNew();

        // Three connections, so three batches: the first takes the only token, the others wait for the bucket to refill
        // (about a second at 1/s) and are then taken; nothing is dropped or counted as limited.
        for (var i = 0; i < 3; i++)
        {
            await h.LoggerAsync("tcp", "--tcp", "--octet-count", "-t", "sshd", $"Failed password for tcp-slow-{i} from 10.1.2.3 port 1 ssh2");
        }

        var rows = await h.WaitForCountsAsync(r => H.Sum(r, "syslog:tcp").Accepted >= 3, "all 3");
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(0.8), $"the batches were admitted after {clock.Elapsed}, not delayed by the rate limit");
        Assert.Equal(new(3, 0, 0), (H.Sum(rows, "syslog:tcp").Accepted, H.Sum(rows, "syslog:tcp").Limited, H.Sum(rows, "syslog:tcp").Refused));
        Assert.Equal(HttpStatusCode.OK, await h.IdentityAsync("tcp-slow-2"));
    }

    [Fact]
    public async Task Tcp_HeldBackByTheRateLimitLongerThanTheIdleTimeout_KeepsReadingTheConnection()
    {
        var settings = H.Listener(0, "tcp", "Tcp", "tcp-stall", "127.0.0.1");
        settings["Syslog:Listeners:0:IdleTimeout"] = "00:00:01";
        settings["Ingest:RateLimit:Shippers:tcp-stall:EventsPerSecond"] = "1";
        settings["Ingest:RateLimit:Shippers:tcp-stall:Burst"] = "1";
        await using var h = await H.StartAsync(settings);
        using var client = new TcpClient();
        await client.ConnectAsync(h.EndPoint("tcp"), Ct);
        var stream = client.GetStream();

        // Two lines take the bucket to -1 token, so the next batch waits about 2 s for it: longer than the 1 s idle
        // timeout. A third line sent meanwhile is acknowledged by the kernel and must still be read after the wait.
        await stream.WriteAsync(Lines("tcp-stall-0", "tcp-stall-1"), Ct);
        await h.WaitForCountsAsync(r => H.Sum(r, "syslog:tcp").Accepted >= 2, "the first two");
        await stream.WriteAsync(Lines("tcp-stall-2"), Ct);
        await Task.Delay(300, Ct); // a separate read, sent while the previous batch waits
        await stream.WriteAsync(Lines("tcp-stall-3"), Ct);

        var rows = await h.WaitForCountsAsync(r => H.Sum(r, "syslog:tcp").Accepted >= 4, "all 4 after the wait");
        Assert.Equal(new(4, 0, 0), (H.Sum(rows, "syslog:tcp").Accepted, H.Sum(rows, "syslog:tcp").Limited, H.Sum(rows, "syslog:tcp").Refused));
        Assert.Equal(HttpStatusCode.OK, await h.IdentityAsync("tcp-stall-3"));
    }

    [Fact]
    public async Task Tcp_MoreConnectionsFromOneAddressThanItsCap_AreRefusedAndCounted_OthersStillServed()
    {
        await using var h = await H.StartAsync(H.Listener(0, "tcp", "Tcp", "tcp-many", "127.0.0.1"));
        var clients = new List<TcpClient>();
        try
        {
            for (var i = 0; i <= SyslogListener.MaxConnectionsPerAddress; i++)
            {
                var client = new TcpClient();
                clients.Add(client);
                await client.ConnectAsync(h.EndPoint("tcp"), Ct);
            }

            var rows = await h.WaitForCountsAsync(r => H.Sum(r, "syslog:tcp", SyslogListener.ConnectionLimit).Refused >= 1, "a refused connection");
            await clients[0].GetStream().WriteAsync(Lines("tcp-many-0"), Ct);
            rows = await h.WaitForCountsAsync(r => H.Sum(r, "syslog:tcp", "tcp-many").Accepted >= 1, "a line over a connection under the cap");
            Assert.Equal(1, H.Sum(rows, "syslog:tcp", SyslogListener.ConnectionLimit).Refused);
            Assert.Equal(1, H.Messages(H.Sum(rows, "syslog:tcp", SyslogListener.ConnectionLimit)));
        }
        finally
        {
            foreach (var client in clients)
            {
                client.Dispose();
            }
        }
    }

    private static byte[] Lines(params string[] users)
    {
        var text = new StringBuilder();
        foreach (var user in users)
        {
            text.Append(System.Globalization.CultureInfo.InvariantCulture, $"<38>1 - host sshd - - - Failed password for {user} from 10.1.2.3 port 1 ssh2\n");
        }

        return Encoding.UTF8.GetBytes(text.ToString());
    }

    private static async Task<string> LinesFileAsync(string user, int count)
    {
        var text = new StringBuilder();
        for (var i = 0; i < count; i++)
        {
            text.Append(System.Globalization.CultureInfo.InvariantCulture, $"Failed password for {user}-{i} from 10.1.2.3 port {1000 + i} ssh2\n");
        }

        var file = Path.Combine(Path.GetTempPath(), "anomalyzt-syslog-" + Guid.NewGuid().ToString("N") + ".txt");
        await File.WriteAllTextAsync(file, text.ToString(), Ct);
        return file;
    }
}
