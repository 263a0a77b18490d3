namespace AnomalyZT.Silo.Siem.Sinks;

/// <summary>Builds the syslog sinks (TCP, TLS, UDP) from sink options.</summary>
internal static class SyslogSinks
{
    public static IRecordSink Create(string name, SiemSinkOptions o) =>
        throw new InvalidOperationException($"Siem:Sinks:{name}:Type '{o.Type}' is not wired yet");
}
