using System.Net.Sockets;

namespace AnomalyZT.Silo.Siem.Sinks;

/// <summary>Syslog over plain TCP with octet-counting framing (RFC 6587 §3.4.1: <c>MSG-LEN SP SYSLOG-MSG</c>, no
/// trailing LF), RFC 5424 messages. See <see cref="SyslogStreamSink"/> for what counts as delivered.</summary>
/// <remarks>RFC 6587 is Historic and the IESG recommends TLS (<see cref="SyslogTlsSink"/>); plain TCP carries findings
/// in clear text and is meant for a receiver on the same host or a trusted network.</remarks>
public sealed class SyslogTcpSink : SyslogStreamSink
{
    /// <summary>A sink named <paramref name="name"/> sending to <see cref="SyslogSinkOptions.Host"/>:<see cref="SyslogSinkOptions.Port"/>.</summary>
    public SyslogTcpSink(string name, SyslogSinkOptions options)
        : base(name, options)
    {
    }

    private protected override bool ExactOffsets => true;

    private protected override Task<Stream> OpenAsync(Socket socket, CountingStream transport, CancellationToken ct) => Task.FromResult<Stream>(transport);
}
