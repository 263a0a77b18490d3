using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace AnomalyZT.Silo.Receivers.Syslog;

/// <summary>TLS: certificates, the per-handshake server options and who a client certificate names.</summary>
internal sealed partial class SyslogListener
{
    /// <summary>Longest TLS handshake (or <see cref="SyslogListenerOptions.IdleTimeout"/> when shorter): a client that has
    /// not authenticated holds a connection slot only this long.</summary>
    public static readonly TimeSpan MaxHandshakeTime = TimeSpan.FromSeconds(10);

    private const string CommonNameOid = "2.5.4.3";
    private const string ClientAuthenticationOid = "1.3.6.1.5.5.7.3.2";

    /// <summary>The TLS handshake; returns the shipper named by the client certificate, or null when refused.</summary>
    private async Task<string?> AuthenticateAsync(SslStream ssl, IPAddress peer, CancellationToken stop)
    {
        using var timeout = new CancellationTokenSource(Options.IdleTimeout < MaxHandshakeTime ? Options.IdleTimeout : MaxHandshakeTime, Time);
        using var stopping = stop.Register(static s => ((CancellationTokenSource)s!).Cancel(), timeout);
        string reason;
        try
        {
            await ssl.AuthenticateAsServerAsync(TlsOptions(), timeout.Token).ConfigureAwait(false);
            if (ssl.RemoteCertificate is X509Certificate2 certificate && CommonName(certificate) is { Length: > 0 } cn)
            {
                return Options.Tls.ClientNames.TryGetValue(cn, out var name) ? name : cn;
            }

            reason = "the client certificate has no subject CN";
        }
        catch (AuthenticationException e)
        {
            reason = e.Message;
        }
        catch (IOException e)
        {
            reason = e.Message;
        }
        catch (OperationCanceledException)
        {
            if (stop.IsCancellationRequested)
            {
                return null;
            }

            reason = "no TLS handshake within the time limit";
        }

        Stats.Count(Receiver, Unauthenticated, "syslog", 0, rejected: 1);
        if (_tlsGate.TryEnter(out var suppressed))
        {
            LogTlsRefused(Options.Name, peer, reason, suppressed);
        }

        return null;
    }

    /// <summary>The subject's CN (OID 2.5.4.3), most specific first; null when it has none. No fallback to other
    /// attributes (OU, O, e-mail), which would name a shipper the certificate does not.</summary>
    internal static string? CommonName(X509Certificate2 certificate)
    {
        foreach (var rdn in certificate.SubjectName.EnumerateRelativeDistinguishedNames())
        {
            if (!rdn.HasMultipleElements && rdn.GetSingleElementType().Value == CommonNameOid)
            {
                return rdn.GetSingleElementValue();
            }
        }

        return null;
    }

    /// <summary>Options for one handshake. Built per handshake so that nothing is shared between concurrent ones.</summary>
    private SslServerAuthenticationOptions TlsOptions() => new()
    {
        ServerCertificateContext = _serverContext,
        ClientCertificateRequired = true,
        EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        CertificateChainPolicy = ClientChainPolicy(_clientCa!),
        RemoteCertificateValidationCallback = static (_, certificate, _, errors) => certificate is not null && errors == SslPolicyErrors.None,
    };

    /// <summary>Client certificates must chain to <paramref name="clientCa"/> and allow TLS client authentication.
    /// <see cref="X509ChainPolicy.VerificationTimeIgnored"/> stays true: validity is checked at the time of each
    /// handshake. (Setting it false pins the check to when the policy was made, accepting certificates that have
    /// expired since and refusing ones issued since.)</summary>
    internal static X509ChainPolicy ClientChainPolicy(X509Certificate2Collection clientCa)
    {
        var policy = new X509ChainPolicy
        {
            TrustMode = X509ChainTrustMode.CustomRootTrust,
            RevocationMode = X509RevocationMode.NoCheck,
        };
        policy.CustomTrustStore.AddRange(clientCa);
        policy.ApplicationPolicy.Add(new Oid(ClientAuthenticationOid));
        return policy;
    }

    private static (X509Certificate2 Server, X509Certificate2Collection ClientCa) LoadCertificates(SyslogListenerOptions options)
    {
        var key = $"{SyslogReceiverOptions.SectionName}:Listeners:{options.Name}:Tls";
        X509Certificate2 server;
        try
        {
            server = X509Certificate2.CreateFromPemFile(options.Tls.CertificateFile, options.Tls.KeyFile);
        }
        catch (Exception e) when (e is CryptographicException or IOException or ArgumentException)
        {
            throw new InvalidOperationException($"{key}:CertificateFile and KeyFile could not be loaded as a PEM certificate and its unencrypted key: {e.Message}", e);
        }

        var ca = new X509Certificate2Collection();
        try
        {
            ca.ImportFromPemFile(options.Tls.ClientCaFile);
        }
        catch (Exception e) when (e is CryptographicException or IOException)
        {
            server.Dispose();
            throw new InvalidOperationException($"{key}:ClientCaFile could not be loaded as PEM certificates: {e.Message}", e);
        }

        if (ca.Count == 0)
        {
            server.Dispose();
            throw new InvalidOperationException($"{key}:ClientCaFile holds no certificate; it must hold the CA that signs client certificates");
        }

        return (server, ca);
    }
}
