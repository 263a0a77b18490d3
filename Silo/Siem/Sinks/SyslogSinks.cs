namespace AnomalyZT.Silo.Siem.Sinks;

/// <summary>Builds the syslog sinks (TCP, TLS, UDP) from sink options.</summary>
internal static class SyslogSinks
{
    /// <summary>The syslog settings of <paramref name="o"/> (type <c>syslog-tcp</c>, <c>syslog-tls</c> or <c>syslog-udp</c>).</summary>
    public static SyslogSinkOptions Options(SiemSinkOptions o) => new()
    {
        Transport = o.Type switch
        {
            SiemSinkTypes.SyslogTls => SyslogTransport.Tls,
            SiemSinkTypes.SyslogUdp => SyslogTransport.Udp,
            _ => SyslogTransport.Tcp,
        },
        Host = o.Host,
        Port = o.Port,
        Facility = o.Facility,
        Hostname = o.Hostname,
        MaxMessageBytes = o.MaxMessageBytes,
        CaFile = o.CaFile,
        ClientCertFile = o.ClientCertFile,
        ClientKeyFile = o.ClientKeyFile,
        ServerName = o.ServerName,
        Timeout = o.Timeout,
    };

    /// <summary>Everything wrong with the syslog settings of <paramref name="o"/> (see <see cref="SyslogSinkOptions.Validate"/>).</summary>
    public static IReadOnlyList<string> Validate(string name, SiemSinkOptions o) => Options(o).Validate(name);

    /// <summary>The sink <paramref name="o"/> describes.</summary>
    /// <exception cref="InvalidOperationException">The settings are invalid; the message lists every error.</exception>
    public static IRecordSink Create(string name, SiemSinkOptions o)
    {
        var options = Options(o);
        var errors = options.Validate(name);
        if (errors.Count > 0)
        {
            throw new InvalidOperationException(string.Join("; ", errors));
        }

        return options.Transport switch
        {
            SyslogTransport.Tls => new SyslogTlsSink(name, options),
            SyslogTransport.Udp => new SyslogUdpSink(name, options),
            _ => new SyslogTcpSink(name, options),
        };
    }
}
