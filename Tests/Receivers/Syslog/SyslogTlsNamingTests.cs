using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using AnomalyZT.Silo.Receivers.Syslog;

namespace AnomalyZT.Tests.Receivers.Syslog;

/// <summary>Who a client certificate names, and when the client chain policy checks validity; no sockets.</summary>
public sealed class SyslogTlsNamingTests
{
    [Theory]
    [InlineData("CN=sshd-host-1", "sshd-host-1")]
    [InlineData("CN=sshd-host-2, OU=ops, O=AnomalyZT test", "sshd-host-2")]
    [InlineData("OU=ops, O=AnomalyZT test", null)]
    [InlineData("E=ops@example.test, O=AnomalyZT test", null)]
    public void CommonName_ReadsOnlyTheCnAttribute_NoFallback(string subject, string? expected)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var now = DateTimeOffset.UtcNow;
        using var certificate = new CertificateRequest(subject, key, HashAlgorithmName.SHA256).CreateSelfSigned(now.AddMinutes(-1), now.AddHours(1));
        Assert.Equal(expected, SyslogListener.CommonName(certificate));
    }

    [Fact]
    public void ClientChainPolicy_ChecksValidityAtEachBuild_NotAtAFixedTime()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var now = DateTimeOffset.UtcNow;
        using var ca = new CertificateRequest("CN=test ca", key, HashAlgorithmName.SHA256).CreateSelfSigned(now.AddMinutes(-1), now.AddHours(1));
        var policy = SyslogListener.ClientChainPolicy([ca]);
        Assert.True(policy.VerificationTimeIgnored);
        Assert.Equal(X509ChainTrustMode.CustomRootTrust, policy.TrustMode);
        Assert.Contains(policy.ApplicationPolicy.Cast<Oid>(), o => o.Value == "1.3.6.1.5.5.7.3.2");
    }
}
