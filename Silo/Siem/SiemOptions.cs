using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Silo.Siem.Encoders;

namespace AnomalyZT.Silo.Siem;

/// <summary>SIEM output settings (section <c>Siem</c>).</summary>
public sealed class SiemOptions
{
    /// <summary>Configuration section.</summary>
    public const string SectionName = "Siem";

    /// <summary>Sinks by name; each follows the record stream with its own durable cursor.</summary>
    public Dictionary<string, SiemSinkOptions> Sinks { get; set; } = new(StringComparer.Ordinal);

    /// <summary>How often an idle sink looks for new records when nothing woke it.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(500);
}

/// <summary>One sink (section <c>Siem:Sinks:{name}</c>).</summary>
public sealed class SiemSinkOptions
{
    /// <summary>One of <see cref="SiemSinkTypes.All"/>.</summary>
    public string Type { get; set; } = string.Empty;

    /// <summary>Encoding (<see cref="SiemFormats.All"/>); empty: cef for syslog, hec for HEC, json for webhook and file.</summary>
    public string Format { get; set; } = string.Empty;

    /// <summary>Only records at least this severe: info, low, medium, high, critical.</summary>
    public string MinSeverity { get; set; } = "info";

    /// <summary>Only these record kinds (finding, action, risk); empty: all.</summary>
    public List<string> Kinds { get; set; } = [];

    /// <summary>Records per send.</summary>
    public int BatchSize { get; set; } = 500;

    /// <summary>Longest wait between retries of a failing sink.</summary>
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Syslog: receiver host.</summary>
    public string Host { get; set; } = string.Empty;

    /// <summary>Syslog: receiver port (514 TCP/UDP, 6514 TLS).</summary>
    public int Port { get; set; }

    /// <summary>Syslog: facility 0–23 (default 13, log audit).</summary>
    public int Facility { get; set; } = 13;

    /// <summary>Syslog: HOSTNAME field; empty for the machine name.</summary>
    public string Hostname { get; set; } = string.Empty;

    /// <summary>Syslog UDP: largest datagram; longer messages are truncated and marked.</summary>
    public int MaxMessageBytes { get; set; } = 2048;

    /// <summary>Syslog TLS: PEM file of the CA(s) that signed the receiver's certificate; empty for the system store.</summary>
    public string CaFile { get; set; } = string.Empty;

    /// <summary>Syslog TLS: PEM client certificate, when the receiver asks for one.</summary>
    public string ClientCertFile { get; set; } = string.Empty;

    /// <summary>Syslog TLS: PEM private key of the client certificate.</summary>
    public string ClientKeyFile { get; set; } = string.Empty;

    /// <summary>Syslog TLS: the name the receiver's certificate must carry; empty for <see cref="Host"/>.</summary>
    public string ServerName { get; set; } = string.Empty;

    /// <summary>HEC and webhook: the URL (HEC: the server root, e.g. https://splunk:8088).</summary>
    public string Url { get; set; } = string.Empty;

    /// <summary>HEC: the token (secret reference: env:, file: or literal).</summary>
    public string Token { get; set; } = string.Empty;

    /// <summary>HEC: index; empty for the token's default.</summary>
    public string Index { get; set; } = string.Empty;

    /// <summary>HEC: wait for indexer acknowledgement before a batch counts as delivered.</summary>
    public bool UseAck { get; set; }

    /// <summary>Webhook: HMAC-SHA256 key (secret reference).</summary>
    public string HmacKey { get; set; } = string.Empty;

    /// <summary>File: path of the JSONL file.</summary>
    public string Path { get; set; } = string.Empty;

    /// <summary>File: size at which the file is rotated.</summary>
    public long MaxFileBytes { get; set; } = 100L * 1024 * 1024;

    /// <summary>File: rotated files kept (path.1 … path.N).</summary>
    public int MaxFiles { get; set; } = 5;

    /// <summary>Per-send timeout.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The encoding in force.</summary>
    public string EffectiveFormat => Format.Length > 0 ? Format : Type switch
    {
        SiemSinkTypes.Hec => "hec",
        SiemSinkTypes.Webhook or SiemSinkTypes.File => "json",
        _ => "cef",
    };

    /// <summary>The minimum severity.</summary>
    public Severity MinimumSeverity => Enum.Parse<Severity>(MinSeverity, ignoreCase: true);

    /// <summary>Errors naming <c>Siem:Sinks:{name}:{Key}</c>, the value and what is allowed.</summary>
    public IReadOnlyList<string> Validate(string name)
    {
        var errors = new List<string>();
        var key = "Siem:Sinks:" + name + ":";
        if (Array.IndexOf(SiemSinkTypes.All, Type) < 0)
        {
            errors.Add($"{key}Type is '{Type}'; allowed: {string.Join(", ", SiemSinkTypes.All)}");
        }

        if (Array.IndexOf(SiemFormats.All, EffectiveFormat) < 0)
        {
            errors.Add($"{key}Format is '{Format}'; allowed: {string.Join(", ", SiemFormats.All)}");
        }

        if (!Enum.TryParse<Severity>(MinSeverity, ignoreCase: true, out _) || int.TryParse(MinSeverity, out _))
        {
            errors.Add($"{key}MinSeverity is '{MinSeverity}'; allowed: info, low, medium, high, critical");
        }

        foreach (var k in Kinds)
        {
            if (k is not ("finding" or "action" or "risk"))
            {
                errors.Add($"{key}Kinds has '{k}'; allowed: finding, action, risk");
            }
        }

        if (BatchSize is < 1 or > 1000)
        {
            errors.Add($"{key}BatchSize is {BatchSize}; it must be from 1 to 1000");
        }

        switch (Type)
        {
            case SiemSinkTypes.SyslogTcp or SiemSinkTypes.SyslogTls or SiemSinkTypes.SyslogUdp:
                errors.AddRange(Sinks.SyslogSinks.Validate(name, this));
                break;
            case SiemSinkTypes.Hec or SiemSinkTypes.Webhook:
                if (!Uri.TryCreate(Url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
                {
                    errors.Add($"{key}Url is '{Url}'; it must be an absolute http(s) URL");
                }

                if (Type == SiemSinkTypes.Hec && Token.Length == 0)
                {
                    errors.Add($"{key}Token is empty; a HEC sink needs its token (env:NAME, file:PATH or the value)");
                }

                if (Type == SiemSinkTypes.Webhook && HmacKey.Length == 0)
                {
                    errors.Add($"{key}HmacKey is empty; a webhook sink signs every body (env:NAME, file:PATH or the value)");
                }

                break;
            case SiemSinkTypes.File:
                if (string.IsNullOrWhiteSpace(Path) || MaxFileBytes < 1024 || MaxFiles is < 1 or > 1000)
                {
                    errors.Add($"{key}Path, MaxFileBytes and MaxFiles are '{Path}', {MaxFileBytes} and {MaxFiles}; a file sink needs a path, at least 1024 bytes and 1 to 1000 files");
                }

                break;
        }

        return errors;
    }
}

/// <summary>Sink types.</summary>
public static class SiemSinkTypes
{
    /// <summary>Syslog over TCP, octet-counted (RFC 6587).</summary>
    public const string SyslogTcp = "syslog-tcp";

    /// <summary>Syslog over TLS (RFC 5425).</summary>
    public const string SyslogTls = "syslog-tls";

    /// <summary>Syslog over UDP (RFC 5426).</summary>
    public const string SyslogUdp = "syslog-udp";

    /// <summary>Splunk HTTP Event Collector.</summary>
    public const string Hec = "hec";

    /// <summary>HTTPS webhook, HMAC-signed.</summary>
    public const string Webhook = "webhook";

    /// <summary>JSONL file with rotation.</summary>
    public const string File = "file";

    /// <summary>Every type.</summary>
    public static readonly string[] All = [SyslogTcp, SyslogTls, SyslogUdp, Hec, Webhook, File];
}
