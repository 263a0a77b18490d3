using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using AnomalyZT.Tests.Response;
using H = AnomalyZT.Tests.Receivers.Syslog.SyslogReceiverHarness;

namespace AnomalyZT.Tests.Receivers.Syslog;

/// <summary>The TCP and TLS listeners fed by a real rsyslogd (Debian's rsyslog and rsyslog-gnutls, run as a plain
/// process) forwarding with omfwd, octet-counted, over plain TCP and over TLS with a client certificate; and TLS
/// clients without a valid client certificate, which must be refused.</summary>
public sealed class SyslogTlsReceiverTests(SyslogTlsPeers peers) : IClassFixture<SyslogTlsPeers>
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(20);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Rsyslog_ForwardingOverTcpAndMutualTls_ReachesTheIdentityGrain_NamedByAllowlistAndCertificate()
    {
        var settings = H.Listener(0, "tcp", "Tcp", "rsyslog-relay", "127.0.0.1");
        foreach (var (k, v) in peers.TlsListener(1, "tls", shipperName: "relay-cert"))
        {
            settings[k] = v;
        }

        await using var h = await H.StartAsync(settings);
        await using var rsyslog = await StartRsyslogAsync(h.EndPoint("tcp").Port, h.EndPoint("tls").Port);
        var logger = PeerProcess.FindProgram("logger", "/usr/bin", "/bin");
        var (code, output) = await PeerProcess.RunAsync(logger,
            ["--server", "127.0.0.1", "--port", rsyslog.InputPort.ToString(CultureInfo.InvariantCulture), "--tcp", "--octet-count", "-t", "sshd",
                "Failed password for invalid user rs-dave from 10.1.2.7 port 4246 ssh2"],
            peers.Directory, null, StartTimeout, Ct);
        Assert.True(code == 0, output);

        var rows = await h.WaitForCountsAsync(
            r => H.Sum(r, "syslog:tcp").Accepted >= 1 && H.Sum(r, "syslog:tls").Accepted >= 1, "one event over TCP and one over TLS (rsyslogd: " + rsyslog.Process.Output + ")");
        Assert.Equal(1, H.Sum(rows, "syslog:tcp", "rsyslog-relay").Accepted);
        Assert.Equal(1, H.Sum(rows, "syslog:tls", "relay-cert").Accepted);
        Assert.Contains(rows, r => r is { Receiver: "syslog:tls", Format: "rfc5424" });
        Assert.Equal(HttpStatusCode.OK, await h.IdentityAsync("rs-dave"));
    }

    [Fact]
    public async Task TlsClients_WithoutACertificate_OrWithOneFromAnotherCa_AreRefusedAndCounted()
    {
        await using var h = await H.StartAsync(peers.TlsListener(0, "tls"));
        await SendOverTlsAsync(h.EndPoint("tls"), null);
        using (var rogue = X509Certificate2.CreateFromPemFile(peers.File("rogue.pem"), peers.File("rogue.key")))
        {
            await SendOverTlsAsync(h.EndPoint("tls"), rogue);
        }

        var rows = await h.WaitForCountsAsync(r => H.Sum(r, "syslog:tls", "unauthenticated").Rejected >= 2, "two refused TLS clients");
        Assert.Equal(2, H.Messages(H.Sum(rows, "syslog:tls")));
        Assert.Equal(HttpStatusCode.NotFound, await h.IdentityAsync("tls-mallory"));
    }

    [Fact]
    public async Task ClientCertificates_AreCheckedAtEachHandshakesTime_NotWhenTheListenerStarted()
    {
        await using var h = await H.StartAsync(peers.TlsListener(0, "tls"));

        // A first client makes sure the listener runs (and, before the fix, had fixed its verification time).
        using (var client = X509Certificate2.CreateFromPemFile(peers.File("client.pem"), peers.File("client.key")))
        await using (var first = await OpenTlsAsync(h.EndPoint("tls"), client))
        {
            await first.SendAsync("Failed password for tls-first from 10.1.2.8 port 1 ssh2");
            await h.WaitForCountsAsync(r => H.Sum(r, "syslog:tls", SyslogTlsPeers.ClientName).Accepted >= 1, "the first TLS client");
        }

        // Issued after that: one valid only from a whole second later, one that expires a second earlier. Certificate
        // times are whole seconds.
        var now = DateTimeOffset.UtcNow;
        var turn = new DateTimeOffset(now.Ticks - (now.Ticks % TimeSpan.TicksPerSecond), TimeSpan.Zero).AddSeconds(2);
        using var ca = X509CertificateLoader.LoadCertificateFromFile(peers.File("ca.pem"));
        using var late = peers.IssueClient("CN=tls-late", turn, turn.AddHours(1));
        using var expiring = peers.IssueClient("CN=tls-expiring", ca.NotBefore.ToUniversalTime(), turn.AddSeconds(-1));
        var wait = turn.AddMilliseconds(200) - DateTimeOffset.UtcNow;
        await Task.Delay(wait > TimeSpan.Zero ? wait : TimeSpan.Zero, Ct); // certificate validity is checked against the real clock

        await using (var valid = await OpenTlsAsync(h.EndPoint("tls"), late))
        {
            await valid.SendAsync("Failed password for tls-late from 10.1.2.8 port 1 ssh2");
            await h.WaitForCountsAsync(r => H.Sum(r, "syslog:tls", "tls-late").Accepted >= 1, "the client whose certificate became valid after the start");
        }

        await SendOverTlsAsync(h.EndPoint("tls"), expiring);
        var rows = await h.WaitForCountsAsync(r => H.Sum(r, "syslog:tls", "unauthenticated").Rejected >= 1, "the client whose certificate expired");
        Assert.Equal(0, H.Messages(H.Sum(rows, "syslog:tls", "tls-expiring")));
        Assert.Equal(HttpStatusCode.NotFound, await h.IdentityAsync("tls-mallory"));
    }

    [Fact]
    public async Task ClientCertificate_WithoutASubjectCn_IsRefused_NotNamedAfterItsOuOrO()
    {
        await using var h = await H.StartAsync(peers.TlsListener(0, "tls"));
        using var ca = X509CertificateLoader.LoadCertificateFromFile(peers.File("ca.pem"));
        using var nameless = peers.IssueClient("O=AnomalyZT test, OU=ops, E=ops@example.test", ca.NotBefore.ToUniversalTime(), ca.NotAfter.ToUniversalTime());

        await SendOverTlsAsync(h.EndPoint("tls"), nameless);
        var rows = await h.WaitForCountsAsync(r => H.Sum(r, "syslog:tls", "unauthenticated").Rejected >= 1, "the refused client");
        Assert.Equal(1, H.Messages(H.Sum(rows, "syslog:tls")));
        Assert.Equal(HttpStatusCode.NotFound, await h.IdentityAsync("tls-mallory"));
    }

    /// <summary>Connects and completes the handshake with <paramref name="certificate"/>; the caller sends and waits
    /// for the counts before closing (closing at once could reset the connection before the listener read it).</summary>
    private async Task<TlsClient> OpenTlsAsync(IPEndPoint endPoint, X509Certificate2 certificate)
    {
        using var ca = X509CertificateLoader.LoadCertificateFromFile(peers.File("ca.pem"));
        var tcp = new TcpClient();
        try
        {
            await tcp.ConnectAsync(endPoint, Ct);
            var ssl = new SslStream(tcp.GetStream(), false);
            var trust = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
            trust.CustomTrustStore.Add(ca);
            await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = "localhost",
                ClientCertificates = [certificate],
                CertificateChainPolicy = trust,
            }, Ct);
            return new TlsClient(tcp, ssl);
        }
        catch
        {
            tcp.Dispose();
            throw;
        }
    }

    /// <summary>Connects, tries the handshake and a message; the server's refusal may surface on either.</summary>
    private async Task SendOverTlsAsync(IPEndPoint endPoint, X509Certificate2? certificate)
    {
        using var ca = X509CertificateLoader.LoadCertificateFromFile(peers.File("ca.pem"));
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(endPoint, Ct);
        await using var ssl = new SslStream(tcp.GetStream(), false);
        var trust = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
        trust.CustomTrustStore.Add(ca);
        try
        {
            await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = "localhost",
                ClientCertificates = certificate is null ? null : [certificate],
                CertificateChainPolicy = trust,
            }, Ct);
            await ssl.WriteAsync("<38>1 - host sshd - - - Failed password for tls-mallory from 10.1.2.8 port 1 ssh2\n"u8.ToArray(), Ct);
            var buffer = new byte[16];
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            timeout.CancelAfter(H.Deadline);
            Assert.Equal(0, await ssl.ReadAsync(buffer, timeout.Token));
        }
        catch (Exception e) when (e is System.Security.Authentication.AuthenticationException or IOException)
        {
            // refused during or right after the handshake
        }
    }

    private async Task<Rsyslog> StartRsyslogAsync(int tcpPort, int tlsPort)
    {
        var rsyslogd = PeerProcess.FindProgram("rsyslogd", "/usr/sbin", "/usr/local/sbin");
        var dir = Path.Combine(peers.Directory, "rsyslog-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(dir, "work"));
        var input = PeerProcess.FreePort();
        var config = Path.Combine(dir, "rsyslog.conf");
        await File.WriteAllTextAsync(config, $$"""
            global(workDirectory="{{Path.Combine(dir, "work")}}"
              defaultNetstreamDriverCAFile="{{peers.File("ca.pem")}}"
              defaultNetstreamDriverCertFile="{{peers.File("client.pem")}}"
              defaultNetstreamDriverKeyFile="{{peers.File("client.key")}}")
            module(load="imtcp")
            input(type="imtcp" address="127.0.0.1" port="{{input}}" ruleset="forward")
            ruleset(name="forward") {
              action(type="omfwd" target="127.0.0.1" port="{{tcpPort}}" protocol="tcp" tcp_framing="octet-counted"
                template="RSYSLOG_SyslogProtocol23Format")
              action(type="omfwd" target="127.0.0.1" port="{{tlsPort}}" protocol="tcp" tcp_framing="octet-counted"
                template="RSYSLOG_SyslogProtocol23Format" streamDriver="gtls" streamDriverMode="1"
                streamDriverAuthMode="x509/name" streamDriverPermittedPeers="localhost")
            }

            """.Replace("\r\n", "\n", StringComparison.Ordinal), Ct);
        var process = PeerProcess.Start(rsyslogd, ["-n", "-f", config, "-i", Path.Combine(dir, "rsyslogd.pid")], dir);
        await process.WaitForPortAsync(input, StartTimeout, Ct);
        return new Rsyslog(process, input);
    }

    private sealed class TlsClient(TcpClient tcp, SslStream ssl) : IAsyncDisposable
    {
        public async Task SendAsync(string sshdLine)
        {
            await ssl.WriteAsync(System.Text.Encoding.UTF8.GetBytes("<38>1 - host sshd - - - " + sshdLine + "\n"), Ct);
            await ssl.FlushAsync(Ct);
        }

        public async ValueTask DisposeAsync()
        {
            await ssl.DisposeAsync();
            tcp.Dispose();
        }
    }

    private sealed record Rsyslog(PeerProcess Process, int InputPort) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => Process.DisposeAsync();
    }
}
