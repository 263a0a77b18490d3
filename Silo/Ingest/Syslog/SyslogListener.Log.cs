using System.Net;
using System.Net.Sockets;

namespace AnomalyZT.Silo.Receivers.Syslog;

/// <summary>Log messages of the syslog listeners (event ids 7501–7519; 7501 and 7511 are the host's). Payloads are
/// never logged; peers are addresses only. Warnings a sender can trigger at will are rate-limited and say how many were
/// held back.</summary>
internal sealed partial class SyslogListener
{
    [LoggerMessage(EventId = 7502, Level = LogLevel.Warning,
        Message = "Syslog listener {Listener} refused traffic from {Peer}, which is in no AllowedSources entry ({Suppressed} more refusals not logged)")]
    private partial void LogUnknownSource(string listener, IPAddress peer, long suppressed);

    [LoggerMessage(EventId = 7503, Level = LogLevel.Warning,
        Message = "Syslog listener {Listener} refused a TLS client at {Peer}: {Reason} ({Suppressed} more refusals not logged)")]
    private partial void LogTlsRefused(string listener, IPAddress peer, string reason, long suppressed);

    [LoggerMessage(EventId = 7504, Level = LogLevel.Warning,
        Message = "Syslog listener {Listener}: the engine refused {Count} datagram records for {GiveUp}; they are counted as refused ({Suppressed} more refusals not logged)")]
    private partial void LogDatagramsRefused(string listener, int count, TimeSpan giveUp, long suppressed);

    [LoggerMessage(EventId = 7505, Level = LogLevel.Warning,
        Message = "Syslog listener {Listener} has {Max} connections open (MaxConnections); closed a new one ({Suppressed} more not logged)")]
    private partial void LogConnectionLimit(string listener, int max, long suppressed);

    [LoggerMessage(EventId = 7506, Level = LogLevel.Error, Message = "Syslog listener {Listener}: a connection failed")]
    private partial void LogConnectionFailed(Exception exception, string listener);

    [LoggerMessage(EventId = 7507, Level = LogLevel.Warning, Message = "Syslog listener {Listener}: socket error {Error}")]
    private partial void LogSocketError(string listener, SocketError error);

    [LoggerMessage(EventId = 7508, Level = LogLevel.Warning,
        Message = "Syslog listener {Listener}: the kernel dropped {New} datagrams ({Total} in all) because the socket's receive buffer was full; raise net.core.rmem_max or send over TCP")]
    private partial void LogKernelDrops(string listener, long @new, long total);

    [LoggerMessage(EventId = 7509, Level = LogLevel.Warning,
        Message = "Syslog listener {Listener} has {Max} connections open from {Peer} (the most per address); closed a new one ({Suppressed} more not logged)")]
    private partial void LogAddressConnectionLimit(string listener, int max, IPAddress peer, long suppressed);

    [LoggerMessage(EventId = 7510, Level = LogLevel.Error,
        Message = "Syslog listener {Listener}: handling a datagram failed; it is counted as rejected, or its batch is retried ({Suppressed} more failures not logged)")]
    private partial void LogDatagramFailed(Exception exception, string listener, long suppressed);
}
