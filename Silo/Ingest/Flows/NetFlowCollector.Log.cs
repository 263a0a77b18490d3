using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;

namespace AnomalyZT.Silo.Receivers.Flows;

// Event ids 7401-7420. Datagram contents are never logged: reasons are the decoder's own words and numbers.
internal sealed partial class NetFlowCollector
{
    [LoggerMessage(EventId = 7401, Level = LogLevel.Information,
        Message = "NetFlow collector listening on udp {EndPoint} (receive buffer {ReceiveBufferBytes} bytes, {Sources} allowed sources)")]
    private partial void LogListening(IPEndPoint endPoint, int receiveBufferBytes, int sources);

    [LoggerMessage(EventId = 7402, Level = LogLevel.Warning,
        Message = "Dropped a NetFlow datagram from {Source}, which is not in NetFlow:AllowedSources ({Suppressed} more since the last warning)")]
    private partial void LogUnknownSource(string source, long suppressed);

    [LoggerMessage(EventId = 7403, Level = LogLevel.Warning,
        Message = "Malformed NetFlow datagram from {Exporter} ({Shipper}), dead-lettered: {Reason} ({Suppressed} more since the last warning)")]
    private partial void LogRejected(string exporter, string shipper, string reason, long suppressed);

    [LoggerMessage(EventId = 7404, Level = LogLevel.Warning,
        Message = "Shipper {Shipper} is over its rate limit: {Flows} flows dropped ({Suppressed} more datagrams since the last warning)")]
    private partial void LogLimited(string shipper, long flows, long suppressed);

    [LoggerMessage(EventId = 7405, Level = LogLevel.Warning,
        Message = "The engine's queues stayed full for {GiveUpAfter}: {Flows} NetFlow flows and {Letters} dead letters refused ({Suppressed} more batches since the last warning)")]
    private partial void LogRefused(int flows, int letters, TimeSpan giveUpAfter, long suppressed);

    [LoggerMessage(EventId = 7406, Level = LogLevel.Warning,
        Message = "The kernel dropped {New} NetFlow datagrams ({Total} in all) because the socket's receive buffer was full; "
            + "raise NetFlow:ReceiveBufferBytes (and net.core.rmem_max)")]
    private partial void LogKernelDrops(long @new, long total);

    [LoggerMessage(EventId = 7407, Level = LogLevel.Warning, Message = "NetFlow receive failed ({Error}); listening on (at most one such warning a minute)")]
    private partial void LogReceiveError(SocketError error);

    [LoggerMessage(EventId = 7408, Level = LogLevel.Information,
        Message = "NetFlow collector stopped: {Accepted} datagrams decoded, {Rejected} malformed, {UnknownSource} from unknown sources, {Flows} flows")]
    private partial void LogStopped(long accepted, long rejected, long unknownSource, long flows);

    [LoggerMessage(EventId = 7409, Level = LogLevel.Error,
        Message = "The NetFlow {Loop} loop failed; the collector stops after sending what it received")]
    private partial void LogLoopFailed(string loop, Exception exception);

    [LoggerMessage(EventId = 7410, Level = LogLevel.Warning,
        Message = "Handling a NetFlow datagram failed; it is counted as rejected and the collector listens on ({Suppressed} more since the last warning)")]
    private partial void LogDatagramFailed(Exception exception, long suppressed);

    [LoggerMessage(EventId = 7411, Level = LogLevel.Error,
        Message = "Dispatching a NetFlow batch failed: {Flows} flows and {Letters} dead letters counted as refused ({Suppressed} more since the last error)")]
    private partial void LogDispatchFailed(Exception exception, int flows, int letters, long suppressed);

    /// <summary>Observable instruments on the silo meter, read from the decoder's totals when collected.</summary>
    private void CreateInstruments(Meter meter)
    {
        meter.CreateObservableCounter("anomalyzt.netflow.datagrams", ObserveDatagrams, "{datagram}",
            "NetFlow/IPFIX datagrams by outcome (accepted, rejected, unknown_source)");
        meter.CreateObservableCounter("anomalyzt.netflow.data_sets", ObserveSets, "{set}",
            "v9/IPFIX data sets that arrived before their template: buffered, replayed once it came, or dropped");
        meter.CreateObservableCounter("anomalyzt.netflow.templates", ObserveTemplates, "{template}",
            "v9/IPFIX templates learned, withdrawn, or refused (malformed or over a cache bound)");
    }

    private IEnumerable<Measurement<long>> ObserveDatagrams()
    {
        var t = _decoder.Totals;
        return
        [
            new(t.DatagramsAccepted, new KeyValuePair<string, object?>("outcome", "accepted")),
            new(t.DatagramsRejected, new KeyValuePair<string, object?>("outcome", "rejected")),
            new(UnknownSourceDatagrams, new KeyValuePair<string, object?>("outcome", "unknown_source")),
        ];
    }

    private IEnumerable<Measurement<long>> ObserveSets()
    {
        var t = _decoder.Totals;
        return
        [
            new(t.SetsBuffered, new KeyValuePair<string, object?>("state", "buffered")),
            new(t.SetsReplayed, new KeyValuePair<string, object?>("state", "replayed")),
            new(t.SetsDropped, new KeyValuePair<string, object?>("state", "dropped")),
        ];
    }

    private IEnumerable<Measurement<long>> ObserveTemplates()
    {
        var t = _decoder.Totals;
        return
        [
            new(t.TemplatesLearned, new KeyValuePair<string, object?>("state", "learned")),
            new(t.TemplatesWithdrawn, new KeyValuePair<string, object?>("state", "withdrawn")),
            new(t.TemplatesRefused, new KeyValuePair<string, object?>("state", "refused")),
        ];
    }
}
