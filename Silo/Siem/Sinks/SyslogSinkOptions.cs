using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace AnomalyZT.Silo.Siem.Sinks;

/// <summary>The transport of a syslog sink.</summary>
public enum SyslogTransport
{
    /// <summary>TCP with octet-counting framing (RFC 6587 §3.4.1).</summary>
    Tcp,

    /// <summary>TLS with octet-counting framing (RFC 5425).</summary>
    Tls,

    /// <summary>UDP, one message per datagram (RFC 5426).</summary>
    Udp,
}

/// <summary>Settings of one syslog sink (section <c>Siem:Sinks:{name}</c>).</summary>
public sealed class SyslogSinkOptions
{
    /// <summary>Largest UDP payload over IPv4 (65535 − 20 bytes of IP header − 8 of UDP header).</summary>
    public const int MaxUdpMessageBytes = 65507;

    /// <summary>Smallest <see cref="MaxMessageBytes"/>: the size every RFC 5426 receiver must accept over IPv4.</summary>
    public const int MinMessageBytes = 480;

    /// <summary>Shortest <see cref="Timeout"/>.</summary>
    public static readonly TimeSpan MinTimeout = TimeSpan.FromMilliseconds(100);

    /// <summary>Longest <see cref="Timeout"/>.</summary>
    public static readonly TimeSpan MaxTimeout = TimeSpan.FromMinutes(10);

    /// <summary>TCP, TLS or UDP.</summary>
    public SyslogTransport Transport { get; set; } = SyslogTransport.Tcp;

    /// <summary>The receiver: a host name or an address.</summary>
    public string Host { get; set; } = string.Empty;

    /// <summary>The receiver's port (514 for TCP and UDP, 6514 for TLS by convention).</summary>
    public int Port { get; set; }

    /// <summary>RFC 5424 facility 0–23; the default 13 is "log audit". Others often used for security events: 4
    /// (auth), 10 (authpriv), 16–23 (local0–local7).</summary>
    public int Facility { get; set; } = 13;

    /// <summary>The HOSTNAME field; empty for the machine name.</summary>
    public string Hostname { get; set; } = string.Empty;

    /// <summary>UDP only: the largest datagram (the whole syslog message), <see cref="MinMessageBytes"/> to
    /// <see cref="MaxUdpMessageBytes"/>; RFC 5426 receivers should accept 2048. A longer message is cut at a UTF-8
    /// character boundary and ends with <c> [truncated from N bytes]</c> (N: the payload's size).</summary>
    public int MaxMessageBytes { get; set; } = 2048;

    /// <summary>TLS only: PEM file of the CA certificate(s) that the receiver's certificate must chain to; empty to
    /// trust the system store.</summary>
    public string CaFile { get; set; } = string.Empty;

    /// <summary>TLS only: PEM client certificate (leaf first, intermediates after it), for receivers that ask for one.</summary>
    public string ClientCertFile { get; set; } = string.Empty;

    /// <summary>TLS only: PEM private key (unencrypted PKCS#8, PKCS#1 or SEC1) of <see cref="ClientCertFile"/>.</summary>
    public string ClientKeyFile { get; set; } = string.Empty;

    /// <summary>TLS only: the name (DNS name or IP address) the receiver's certificate must carry; empty for
    /// <see cref="Host"/>.</summary>
    public string ServerName { get; set; } = string.Empty;

    /// <summary>Start MSG with a UTF-8 byte order mark (RFC 5424 §6.4).</summary>
    public bool ByteOrderMark { get; set; } = true;

    /// <summary>Send this process's id as PROCID (else <c>-</c>).</summary>
    public bool IncludeProcessId { get; set; } = true;

    /// <summary>Bounds connecting (with the TLS handshake), each write, and the wait for the receiver to acknowledge
    /// what was written.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The name the receiver's certificate must carry.</summary>
    public string EffectiveServerName => string.IsNullOrWhiteSpace(ServerName) ? Host : ServerName;

    /// <summary>Everything wrong with these settings, one sentence each, naming <c>Siem:Sinks:{name}:{Key}</c>, the value
    /// found and what is allowed; empty when the sink can be built. Files are read to check that they parse.</summary>
    public IReadOnlyList<string> Validate(string name)
    {
        var errors = new List<string>();
        var key = "Siem:Sinks:" + name + ":";
        if (string.IsNullOrWhiteSpace(Host))
        {
            errors.Add($"{key}Host is missing; a syslog sink needs the receiver's host name or address, e.g. 127.0.0.1 or siem.example.org");
        }
        else if (Uri.CheckHostName(Host) == UriHostNameType.Unknown)
        {
            errors.Add($"{key}Host is '{Host}', which is not a host name or an IP address; e.g. 127.0.0.1 or siem.example.org");
        }

        if (Port is < 1 or > 65535)
        {
            errors.Add(FormattableString.Invariant($"{key}Port is {Port}; allowed: 1 to 65535 (514 for TCP and UDP, 6514 for TLS by convention)"));
        }

        if (Facility is < 0 or > 23)
        {
            errors.Add(FormattableString.Invariant($"{key}Facility is {Facility}; allowed: 0 to 23 (RFC 5424: 4 auth, 10 authpriv, 13 log audit, 16-23 local0-local7)"));
        }

        if (Hostname.Length > SyslogFormatter.MaxHostnameLength || Hostname.Any(c => c is < '!' or > '~'))
        {
            errors.Add(FormattableString.Invariant(
                $"{key}Hostname is '{Hostname}'; allowed: empty (the machine name) or up to {SyslogFormatter.MaxHostnameLength} printable US-ASCII characters without spaces"));
        }

        if (Transport == SyslogTransport.Udp && MaxMessageBytes is < MinMessageBytes or > MaxUdpMessageBytes)
        {
            errors.Add(FormattableString.Invariant(
                $"{key}MaxMessageBytes is {MaxMessageBytes}; allowed: {MinMessageBytes} to {MaxUdpMessageBytes} (RFC 5426 receivers should accept 2048)"));
        }

        if (Timeout < MinTimeout || Timeout > MaxTimeout)
        {
            errors.Add($"{key}Timeout is '{Timeout:c}'; allowed: {MinTimeout:c} to {MaxTimeout:c}");
        }

        if (Transport == SyslogTransport.Tls)
        {
            ValidateTls(key, errors);
        }
        else
        {
            foreach (var (setting, value) in new[] { ("CaFile", CaFile), ("ClientCertFile", ClientCertFile), ("ClientKeyFile", ClientKeyFile), ("ServerName", ServerName) })
            {
                if (!string.IsNullOrWhiteSpace(value))
                {
                    errors.Add($"{key}{setting} is '{value}', but a {Transport.ToString().ToLowerInvariant()} syslog sink does not use TLS; remove it or use Type syslog-tls");
                }
            }
        }

        return errors;
    }

    private void ValidateTls(string key, List<string> errors)
    {
        if (!string.IsNullOrWhiteSpace(ServerName) && Uri.CheckHostName(ServerName) == UriHostNameType.Unknown)
        {
            errors.Add($"{key}ServerName is '{ServerName}', which is not a DNS name or an IP address; leave it empty to check the certificate against Host");
        }

        if (!string.IsNullOrWhiteSpace(CaFile))
        {
            try
            {
                _ = SyslogTlsSink.LoadCaFile(CaFile);
            }
            catch (InvalidOperationException ex)
            {
                errors.Add($"{key}CaFile is '{CaFile}': {ex.Message}; it must be a readable PEM file with at least one CERTIFICATE");
            }
        }

        var hasCert = !string.IsNullOrWhiteSpace(ClientCertFile);
        var hasKey = !string.IsNullOrWhiteSpace(ClientKeyFile);
        if (hasCert != hasKey)
        {
            errors.Add($"{key}ClientCertFile and {key}ClientKeyFile are '{ClientCertFile}' and '{ClientKeyFile}'; set both (PEM certificate and its private key) or neither");
        }
        else if (hasCert)
        {
            try
            {
                using var certificate = SyslogTlsSink.LoadClientCertificate(ClientCertFile, ClientKeyFile).Leaf;
            }
            catch (InvalidOperationException ex)
            {
                errors.Add($"{key}ClientCertFile and {key}ClientKeyFile are '{ClientCertFile}' and '{ClientKeyFile}': {ex.Message}; they must be a PEM certificate and its unencrypted PEM private key");
            }
        }
    }

    /// <summary>Reads a PEM file of certificates.</summary>
    /// <exception cref="InvalidOperationException">Unreadable, or no certificate in it.</exception>
    internal static X509Certificate2Collection ReadCertificates(string path)
    {
        var certificates = new X509Certificate2Collection();
        try
        {
            certificates.ImportFromPemFile(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new InvalidOperationException($"cannot be read ({ex.GetType().Name}: {ex.Message})", ex);
        }

        return certificates.Count > 0 ? certificates : throw new InvalidOperationException("has no PEM CERTIFICATE block");
    }
}
