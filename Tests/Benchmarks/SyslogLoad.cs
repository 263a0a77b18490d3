using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using AnomalyZT.Silo.Hosting;
using AnomalyZT.Silo.Receivers;
using AnomalyZT.Silo.Receivers.Syslog;
using AnomalyZT.Silo.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AnomalyZT.Benchmarks;

/// <summary>Events/s through one syslog listener of an in-process silo over real loopback sockets:
/// <c>dotnet run -c Release --project Tests/Benchmarks -- syslog-load [udp|tcp|tls] [seconds] [clients]</c>.
/// Clients blast RFC 5424 sshd "Failed password" lines for 1,000 users (UDP one per datagram; TCP and TLS octet-counted
/// in 64 KiB writes, TLS with a client certificate); the per-shipper rate limit is off.</summary>
internal static class SyslogLoad
{
    private const int Users = 1000;

    public static async Task<int> RunAsync(string[] args)
    {
        var protocol = args.Length > 1 ? args[1].ToLowerInvariant() : "tcp";
        var seconds = args.Length > 2 ? double.Parse(args[2], CultureInfo.InvariantCulture) : 10;
        var clients = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 2;
        if (protocol is not ("udp" or "tcp" or "tls"))
        {
            Console.Error.WriteLine("usage: syslog-load [udp|tcp|tls] [seconds] [clients]");
            return 2;
        }

        X509Certificate2? client = null;
        try
        {
            return await LoadSilo.RunAsync("syslog-load", dir =>
            {
                client = protocol == "tls" ? MakeCertificates(dir) : null; // before the listener reads them
                return Settings(dir, protocol);
            }, (app, dir) => MeasureAsync(app, dir, protocol, seconds, clients, client));
        }
        finally
        {
            client?.Dispose();
        }
    }

    private static async Task<int> MeasureAsync(WebApplication app, string dir, string protocol, double seconds, int clients, X509Certificate2? client)
    {
        using var ca = client is null ? null : X509CertificateLoader.LoadCertificateFromFile(Path.Combine(dir, "ca.pem"));
        var tls = client is null ? null : ClientOptions(client, ca!);
        var endPoint = app.Services.GetRequiredService<SyslogReceiverHost>().EndPointOf("load")!;
        var stats = app.Services.GetRequiredService<ReceiverStats>();
        var receiver = "syslog:" + protocol;
        var messages = Messages();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        var clock = Stopwatch.StartNew();
        var senders = new Task<long>[clients];
        for (var i = 0; i < clients; i++)
        {
            senders[i] = protocol == "udp"
                ? Task.Run(() => SendDatagramsAsync(endPoint, messages, stop.Token))
                : Task.Run(() => SendStreamAsync(endPoint, messages, tls, stop.Token));
        }

        var sent = (await Task.WhenAll(senders)).Sum();
        var sendTime = clock.Elapsed;

        // Wait until the listener has counted everything (or stops moving for a second).
        var lastChange = await LoadSilo.SettleAsync(() => LoadSilo.Counted(stats, receiver), sent, clock);
        var total = stats.Total(receiver);
        var elapsed = lastChange > sendTime ? lastChange : sendTime;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"syslog-load {protocol}: {clients} clients, {seconds:0.#} s: sent {sent:N0}, accepted {total.Accepted:N0}, rejected {total.Rejected:N0}, limited {total.Limited:N0}, refused {total.Refused:N0}, ignored {total.Ignored:N0}; {total.Accepted / elapsed.TotalSeconds:N0} events/s accepted over {elapsed.TotalSeconds:0.00} s ({sent / sendTime.TotalSeconds:N0} msgs/s sent)"));
        return 0;
    }

    private static Dictionary<string, string?> Settings(string dir, string protocol)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Syslog:Listeners:0:Name"] = "load",
            ["Syslog:Listeners:0:Protocol"] = protocol,
            ["Syslog:Listeners:0:Port"] = "0",
            ["Syslog:Listeners:0:AllowedSources:0:Name"] = "load-" + protocol,
            ["Syslog:Listeners:0:AllowedSources:0:Cidr"] = "127.0.0.1",
        };
        if (protocol == "tls")
        {
            settings["Syslog:Listeners:0:Tls:CertificateFile"] = Path.Combine(dir, "server.pem");
            settings["Syslog:Listeners:0:Tls:KeyFile"] = Path.Combine(dir, "server.key");
            settings["Syslog:Listeners:0:Tls:ClientCaFile"] = Path.Combine(dir, "ca.pem");
        }

        return settings;
    }

    private static byte[][] Messages()
    {
        var stamp = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        var messages = new byte[Users][];
        for (var i = 0; i < Users; i++)
        {
            messages[i] = Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture,
                $"<38>1 {stamp} bench-host sshd 4242 - - Failed password for invalid user load-{i} from 10.1.{i % 250}.{i % 7} port {40000 + i} ssh2"));
        }

        return messages;
    }

    private static async Task<long> SendDatagramsAsync(IPEndPoint endPoint, byte[][] messages, CancellationToken ct)
    {
        using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        udp.Connect(endPoint);
        long sent = 0;
        while (!ct.IsCancellationRequested)
        {
            await udp.SendAsync(messages[sent % Users], SocketFlags.None, CancellationToken.None);
            sent++;
        }

        return sent;
    }

    private static async Task<long> SendStreamAsync(IPEndPoint endPoint, byte[][] messages, SslClientAuthenticationOptions? tls, CancellationToken ct)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(endPoint, CancellationToken.None);
        Stream stream = tcp.GetStream();
        if (tls is not null)
        {
            var ssl = new SslStream(stream, false);
            await ssl.AuthenticateAsClientAsync(tls, CancellationToken.None);
            stream = ssl;
        }

        // One 64 KiB chunk of octet-counted frames, written over and over.
        using var chunk = new MemoryStream();
        var count = 0;
        while (chunk.Length < 64 * 1024)
        {
            var m = messages[count % Users];
            chunk.Write(Encoding.ASCII.GetBytes(m.Length.ToString(CultureInfo.InvariantCulture) + " "));
            chunk.Write(m);
            count++;
        }

        var bytes = chunk.ToArray();
        long sent = 0;
        await using (stream)
        {
            while (!ct.IsCancellationRequested)
            {
                await stream.WriteAsync(bytes, CancellationToken.None);
                sent += count;
            }

            // Close as a syslog client should: end the stream and read to the end. Closing with unread bytes (TLS 1.3
            // session tickets) would send a reset, and the listener's kernel would discard what it had not read yet.
            if (stream is SslStream ssl)
            {
                await ssl.ShutdownAsync();
            }

            tcp.Client.Shutdown(SocketShutdown.Send);
            var sink = new byte[4096];
            while (await stream.ReadAsync(sink, CancellationToken.None) > 0)
            {
            }
        }

        return sent;
    }

    private static SslClientAuthenticationOptions ClientOptions(X509Certificate2 client, X509Certificate2 ca)
    {
        var trust = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
        trust.CustomTrustStore.Add(ca);
        return new SslClientAuthenticationOptions { TargetHost = "localhost", ClientCertificates = [client], CertificateChainPolicy = trust };
    }

    private static X509Certificate2 MakeCertificates(string dir)
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=AnomalyZT syslog load CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        using var ca = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        File.WriteAllText(Path.Combine(dir, "ca.pem"), ca.ExportCertificatePem());
        using var server = Leaf(ca, "localhost", "1.3.6.1.5.5.7.3.1", out var serverKey);
        File.WriteAllText(Path.Combine(dir, "server.pem"), server.ExportCertificatePem());
        File.WriteAllText(Path.Combine(dir, "server.key"), serverKey.ExportPkcs8PrivateKeyPem());
        serverKey.Dispose();
        var client = Leaf(ca, "bench-client", "1.3.6.1.5.5.7.3.2", out var clientKey);
        using (clientKey)
        using (client)
        {
            return client.CopyWithPrivateKey(clientKey);
        }
    }

    private static X509Certificate2 Leaf(X509Certificate2 ca, string cn, string usage, out ECDsa key)
    {
        key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=" + cn, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(usage)], false));
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        return request.Create(ca, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1), RandomNumberGenerator.GetBytes(8));
    }
}
