using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using AnomalyZT.Tests.Response;

namespace AnomalyZT.Tests.Receivers.Syslog;

/// <summary>Certificates made with openssl for the TLS listener tests, in a temp dir: a CA, a server certificate for
/// 127.0.0.1, a client certificate (CN <see cref="ClientName"/>) signed by the CA, and a client certificate signed by
/// another CA; more client certificates (any subject, any validity) can be issued by the CA in a test. Used as an
/// xunit class fixture.</summary>
public sealed class SyslogTlsPeers : IAsyncLifetime
{
    public const string ClientName = "sshd-host-1";
    private static readonly TimeSpan ToolTimeout = TimeSpan.FromSeconds(30);

    public string Directory { get; } = Path.Combine(Path.GetTempPath(), "anomalyzt-syslog-tls-" + Guid.NewGuid().ToString("N"));

    public string File(string name) => Path.Combine(Directory, name);

    /// <inheritdoc />
    public async ValueTask InitializeAsync()
    {
        var ct = TestContext.Current.CancellationToken;
        System.IO.Directory.CreateDirectory(Path.Combine(Directory, "work"));
        var openssl = PeerProcess.FindProgram("openssl", "/usr/bin");
        async Task Run(params string[] arguments)
        {
            var (code, output) = await PeerProcess.RunAsync(openssl, arguments, Directory, null, ToolTimeout, ct);
            Assert.True(code == 0, $"openssl {string.Join(' ', arguments)} failed ({code}): {output}");
        }

        string[] ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
        foreach (var ca in new[] { "ca", "other-ca" })
        {
            await Run(["req", "-x509", .. ec, "-keyout", ca + ".key", "-out", ca + ".pem", "-days", "2", "-subj", "/CN=AnomalyZT syslog test " + ca,
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"]);
        }

        await System.IO.File.WriteAllTextAsync(File("server.ext"),
            "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n", ct);
        await System.IO.File.WriteAllTextAsync(File("client.ext"),
            "extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n", ct);
        foreach (var (leaf, cn, ca, ext) in new[] { ("server", "localhost", "ca", "server"), ("client", ClientName, "ca", "client"), ("rogue", ClientName, "other-ca", "client") })
        {
            await Run(["req", .. ec, "-keyout", leaf + ".key", "-out", leaf + ".csr", "-subj", "/CN=" + cn]);
            await Run(["x509", "-req", "-in", leaf + ".csr", "-CA", ca + ".pem", "-CAkey", ca + ".key", "-CAcreateserial", "-out", leaf + ".pem",
                "-days", "2", "-extfile", ext + ".ext"]);
        }
    }

    /// <summary>A client certificate (with its key) for <paramref name="subject"/> issued by the test CA, valid from
    /// <paramref name="notBefore"/> to <paramref name="notAfter"/> (whole seconds; within the CA's validity).</summary>
    public X509Certificate2 IssueClient(string subject, DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        using var ca = X509Certificate2.CreateFromPemFile(File("ca.pem"), File("ca.key"));
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        using var issued = request.Create(ca, notBefore, notAfter, RandomNumberGenerator.GetBytes(16));
        return issued.CopyWithPrivateKey(key);
    }

    /// <summary>Settings of a Tls listener at index <paramref name="i"/> using these certificates.</summary>
    public Dictionary<string, string?> TlsListener(int i, string name, string? shipperName = null)
    {
        var p = string.Create(CultureInfo.InvariantCulture, $"Syslog:Listeners:{i}:");
        var settings = new Dictionary<string, string?>
        {
            [p + "Name"] = name,
            [p + "Protocol"] = "Tls",
            [p + "Port"] = "0",
            [p + "Tls:CertificateFile"] = File("server.pem"),
            [p + "Tls:KeyFile"] = File("server.key"),
            [p + "Tls:ClientCaFile"] = File("ca.pem"),
        };
        if (shipperName is not null)
        {
            settings[p + "Tls:ClientNames:" + ClientName] = shipperName;
        }

        return settings;
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }

        return ValueTask.CompletedTask;
    }
}
