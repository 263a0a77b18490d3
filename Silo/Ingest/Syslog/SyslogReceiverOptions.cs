namespace AnomalyZT.Silo.Receivers.Syslog;

/// <summary>Transport of a syslog listener.</summary>
public enum SyslogProtocol
{
    /// <summary>RFC 5426: one datagram is one message. Authenticated by source network only.</summary>
    Udp = 0,

    /// <summary>RFC 6587: octet counting or LF framing, detected per connection. Authenticated by source network only.</summary>
    Tcp = 1,

    /// <summary>RFC 5425: TCP with TLS 1.2+, and a client certificate that chains to the configured CA (mutual TLS).</summary>
    Tls = 2,
}

/// <summary>What happens to syslog lines that parse but carry no sshd authentication outcome.</summary>
public enum SyslogNonAuthLines
{
    /// <summary>Counted as <c>ignored</c> and dropped (default: a host forwards all its logs, most are not auth).</summary>
    Ignore = 0,

    /// <summary>Counted as <c>ignored</c> and kept as dead letters, to see what a shipper sends.</summary>
    DeadLetter = 1,
}

/// <summary>Syslog network receivers (section <c>Syslog</c>): sshd authentication lines forwarded by rsyslog,
/// syslog-ng or <c>logger</c> become access events. With no listeners (the default) nothing listens.</summary>
public sealed class SyslogReceiverOptions
{
    /// <summary>Configuration section the options bind from.</summary>
    public const string SectionName = "Syslog";

    /// <summary>The sockets to listen on.</summary>
    public List<SyslogListenerOptions> Listeners { get; set; } = [];

    /// <summary>Lines that are not sshd authentication outcomes: ignored (default) or also dead-lettered.</summary>
    public SyslogNonAuthLines NonAuthLines { get; set; } = SyslogNonAuthLines.Ignore;

    /// <summary>UTC offset of RFC 3164 timestamps, which carry no zone (default 00:00:00, UTC; e.g. <c>-05:00:00</c>).</summary>
    public TimeSpan Rfc3164TimeZoneOffset { get; set; }
}

/// <summary>One syslog socket.</summary>
public sealed class SyslogListenerOptions
{
    /// <summary>Default largest message (64 KiB; RFC 5425 asks for at least 2 KiB and recommends 8 KiB).</summary>
    public const int DefaultMaxMessageBytes = 64 * 1024;

    /// <summary>Listener name, unique: letters, digits, <c>.</c>, <c>_</c>, <c>-</c>. Used in logs and to look up the
    /// bound endpoint.</summary>
    public string Name { get; set; } = string.Empty;

    /// <summary>Transport (default Udp).</summary>
    public SyslogProtocol Protocol { get; set; } = SyslogProtocol.Udp;

    /// <summary>Local address to bind (default <c>127.0.0.1</c>; <c>0.0.0.0</c> or <c>::</c> for every interface).</summary>
    public string Address { get; set; } = "127.0.0.1";

    /// <summary>Port (default 514 for Udp and Tcp, 6514 for Tls); 0 picks a free port (tests).</summary>
    public int? Port { get; set; }

    /// <summary>Sources allowed to send, each named as a shipper. Required for Udp and Tcp, which carry no credential;
    /// for Tls an optional extra filter (the shipper is then still named by the client certificate).</summary>
    public List<AllowedSource> AllowedSources { get; set; } = [];

    /// <summary>Certificates for Tls listeners.</summary>
    public SyslogTlsOptions Tls { get; set; } = new();

    /// <summary>Largest message in bytes, framing excluded (default 64 KiB); longer ones are dead-lettered.</summary>
    public int MaxMessageBytes { get; set; } = DefaultMaxMessageBytes;

    /// <summary>Most open connections (Tcp, Tls; default 256), and at most 32 from one address; more are closed at once
    /// and counted as refused.</summary>
    public int MaxConnections { get; set; } = 256;

    /// <summary>A connection that sends nothing for this long is closed (default 10 minutes; senders reconnect).</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>The port used when <see cref="Port"/> is not set.</summary>
    public int EffectivePort => Port ?? (Protocol == SyslogProtocol.Tls ? 6514 : 514);
}

/// <summary>Certificates of a Tls listener, all PEM files.</summary>
public sealed class SyslogTlsOptions
{
    /// <summary>The server certificate (may include its intermediates).</summary>
    public string CertificateFile { get; set; } = string.Empty;

    /// <summary>The server certificate's private key (unencrypted PEM).</summary>
    public string KeyFile { get; set; } = string.Empty;

    /// <summary>The CA that client certificates must chain to. Clients without such a certificate are refused.</summary>
    public string ClientCaFile { get; set; } = string.Empty;

    /// <summary>Shipper names by client certificate subject CN; a CN not listed is its own shipper name.</summary>
    public Dictionary<string, string> ClientNames { get; set; } = new(StringComparer.Ordinal);
}
