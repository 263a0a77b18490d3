using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace AnomalyZT.Silo.Siem.Sinks;

/// <summary>Syslog over TLS (RFC 5425): TLS 1.2 or 1.3, octet-counting framing, RFC 5424 messages. See
/// <see cref="SyslogStreamSink"/> for what counts as delivered.</summary>
/// <remarks>
/// <para>The receiver's certificate must chain to a CA of <see cref="SyslogSinkOptions.CaFile"/> (PEM; only those
/// CAs are trusted) or, without it, to the system's trusted CAs, and must carry
/// <see cref="SyslogSinkOptions.EffectiveServerName"/> (a DNS name, or an IP address in its subjectAltName).
/// Revocation is not checked. There is no way to turn validation off: for a private receiver, give its CA.</para>
/// <para>A client certificate (<see cref="SyslogSinkOptions.ClientCertFile"/> and
/// <see cref="SyslogSinkOptions.ClientKeyFile"/>) is offered when configured. Some receivers (rsyslog among them)
/// check it only after the handshake and then close the connection; the sink waits up to
/// <see cref="RejectionWait"/> after each handshake and treats a close in that time as a failed connection, so no
/// record is written into a connection about to be dropped.</para>
/// <para>Files are read at each connection, so renewed certificates are picked up at the next reconnect.</para>
/// </remarks>
public sealed class SyslogTlsSink : SyslogStreamSink
{
    /// <summary>How long after a handshake the sink watches for the receiver closing the connection.</summary>
    public static readonly TimeSpan RejectionWait = TimeSpan.FromMilliseconds(200);

    private string? _rejection;

    /// <summary>A sink named <paramref name="name"/> sending to <see cref="SyslogSinkOptions.Host"/>:<see cref="SyslogSinkOptions.Port"/>.</summary>
    public SyslogTlsSink(string name, SyslogSinkOptions options)
        : base(name, options)
    {
    }

    /// <summary>The protocol of the current connection, or null when there is none.</summary>
    public SslProtocols? Protocol { get; private set; }

    private protected override bool ExactOffsets => false;

    /// <summary>The certificates of a PEM CA file.</summary>
    /// <exception cref="InvalidOperationException">Unreadable, or no certificate in it.</exception>
    public static X509Certificate2Collection LoadCaFile(string path) => SyslogSinkOptions.ReadCertificates(path);

    /// <summary>The client certificate of <paramref name="certFile"/> (leaf first, then intermediates) with the private
    /// key of <paramref name="keyFile"/>.</summary>
    /// <exception cref="InvalidOperationException">Unreadable, or the key does not belong to the certificate.</exception>
    public static (X509Certificate2 Leaf, X509Certificate2Collection Intermediates) LoadClientCertificate(string certFile, string keyFile)
    {
        X509Certificate2 leaf;
        try
        {
            leaf = X509Certificate2.CreateFromPemFile(certFile, keyFile);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            throw new InvalidOperationException($"cannot be loaded ({ex.GetType().Name}: {ex.Message})", ex);
        }

        var all = SyslogSinkOptions.ReadCertificates(certFile);
        var intermediates = new X509Certificate2Collection();
        for (var i = 0; i < all.Count; i++)
        {
            if (i == 0)
            {
                all[i].Dispose();
            }
            else
            {
                intermediates.Add(all[i]);
            }
        }

        return (leaf, intermediates);
    }

    private protected override async Task<Stream> OpenAsync(Socket socket, CountingStream transport, CancellationToken ct)
    {
        Protocol = null;
        _rejection = null;
        var options = new SslClientAuthenticationOptions
        {
            TargetHost = Options.EffectiveServerName,
            EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            RemoteCertificateValidationCallback = Check,
        };
        if (!string.IsNullOrWhiteSpace(Options.CaFile))
        {
            var policy = new X509ChainPolicy
            {
                TrustMode = X509ChainTrustMode.CustomRootTrust,
                RevocationMode = X509RevocationMode.NoCheck,
            };
            policy.CustomTrustStore.AddRange(Read("CaFile", () => LoadCaFile(Options.CaFile)));
            options.CertificateChainPolicy = policy;
        }

        if (!string.IsNullOrWhiteSpace(Options.ClientCertFile))
        {
            var (leaf, intermediates) = Read("ClientCertFile", () => LoadClientCertificate(Options.ClientCertFile, Options.ClientKeyFile));
            options.ClientCertificateContext = SslStreamCertificateContext.Create(leaf, intermediates, offline: true);
        }

        var ssl = new SslStream(transport, leaveInnerStreamOpen: false);
        try
        {
            await ssl.AuthenticateAsClientAsync(options, ct).ConfigureAwait(false);
        }
        catch
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        Protocol = ssl.SslProtocol;
        return ssl;
    }

    private protected override async Task AfterOpenAsync(Task closed, CancellationToken ct)
    {
        var wait = RejectionWait < Options.Timeout / 2 ? RejectionWait : Options.Timeout / 2;
        if (await Task.WhenAny(closed, Task.Delay(wait, ct)).ConfigureAwait(false) == closed)
        {
            throw new IOException(string.IsNullOrWhiteSpace(Options.ClientCertFile)
                ? "the receiver closed the connection right after the TLS handshake (does it require a client certificate? set ClientCertFile and ClientKeyFile)"
                : "the receiver closed the connection right after the TLS handshake (did it reject the client certificate?)");
        }

        ct.ThrowIfCancellationRequested();
    }

    private protected override Task CloseGracefullyAsync(Stream stream) => stream is SslStream ssl ? ssl.ShutdownAsync() : Task.CompletedTask;

    private protected override string Describe(string what, Exception ex) => ex switch
    {
        AuthenticationException => $"{what} {Endpoint}: TLS handshake failed: {_rejection ?? ex.Message}",
        _ => base.Describe(what, ex),
    };

    private T Read<T>(string key, Func<T> load)
    {
        try
        {
            return load();
        }
        catch (InvalidOperationException ex)
        {
            throw new IOException($"Siem:Sinks:{Name}:{key} {ex.Message}", ex);
        }
    }

    private bool Check(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }

        var subject = certificate is null ? "none" : $"'{certificate.Subject}' issued by '{certificate.Issuer}'";
        var reasons = new List<string>();
        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
        {
            reasons.Add("the receiver sent no certificate");
        }

        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch))
        {
            reasons.Add($"its certificate ({subject}) is not for '{Options.EffectiveServerName}' (set ServerName to the name it carries)");
        }

        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateChainErrors))
        {
            var status = chain is null
                ? "no chain"
                : string.Join(", ", chain.ChainStatus.Select(s => s.Status.ToString()).Distinct(StringComparer.Ordinal));
            var trust = string.IsNullOrWhiteSpace(Options.CaFile) ? "the system's trusted CAs" : $"a CA of CaFile '{Options.CaFile}'";
            reasons.Add($"its certificate ({subject}) does not chain to {trust} ({status})");
        }

        _rejection = "the receiver's certificate was rejected: " + string.Join("; ", reasons);
        return false;
    }
}
