using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using AnomalyZT.Tests.Silo;

namespace AnomalyZT.Tests.Ingest.DropIn;

/// <summary>Shippers can reach every HTTP receiver over TLS: a Kestrel HTTPS endpoint from configuration (PEM
/// certificate and key), and the API key is still required on it.</summary>
public sealed class HttpsIngestTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task HecOverHttps_WithTheServerCertificateTrusted_IsTaken_AndWithoutAKeyIs401()
    {
        var dir = SiloServer.NewDataDirectory();
        Directory.CreateDirectory(dir);
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        await File.WriteAllTextAsync(Path.Combine(dir, "server.pem"), certificate.ExportCertificatePem(), Ct);
        await File.WriteAllTextAsync(Path.Combine(dir, "server.key"), key.ExportPkcs8PrivateKeyPem(), Ct);

        await using var silo = await SiloServer.StartAsync(dir, new Dictionary<string, string?>
        {
            ["Kestrel:Endpoints:Https:Url"] = "https://127.0.0.1:0",
            ["Kestrel:Endpoints:Https:Certificate:Path"] = Path.Combine(dir, "server.pem"),
            ["Kestrel:Endpoints:Https:Certificate:KeyPath"] = Path.Combine(dir, "server.key"),
        });
        Assert.Equal("https", silo.BaseAddress.Scheme);

        using var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, presented, _, _) => presented is not null && presented.Thumbprint == certificate.Thumbprint,
        };
        using var hec = new HttpClient(handler) { BaseAddress = silo.BaseAddress };
        var envelope = "{\"sourcetype\":\"_json\",\"event\":{\"type\":\"access\",\"ts\":\"" + DateTimeOffset.UtcNow.ToString("O") + "\",\"principal\":\"tls-ivy@corp\",\"resource\":\"/v1/models\",\"status\":200}}";
        using (var anonymous = new StringContent(envelope, Encoding.UTF8, "application/json"))
        {
            using var refused = await hec.PostAsync("services/collector/event", anonymous, Ct);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        hec.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Splunk", SiloServer.ShipperKey);
        using var body = new StringContent(envelope, Encoding.UTF8, "application/json");
        using var response = await hec.PostAsync("services/collector/event", body, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await silo.Runtime.FlushAsync(Ct);
        using var viewerHandler = new HttpClientHandler { ServerCertificateCustomValidationCallback = handler.ServerCertificateCustomValidationCallback };
        using var viewer = new HttpClient(viewerHandler) { BaseAddress = silo.BaseAddress };
        viewer.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", SiloServer.ViewerKey);
        using var entity = await viewer.GetAsync("v1/entities/identity/tls-ivy@corp", Ct);
        Assert.Equal(HttpStatusCode.OK, entity.StatusCode);
    }
}
