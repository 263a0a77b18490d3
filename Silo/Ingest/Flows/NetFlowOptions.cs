using System.Net;
using Microsoft.Extensions.Options;

namespace AnomalyZT.Silo.Receivers.Flows;

/// <summary>The NetFlow v5 / v9 / IPFIX collector (section <c>NetFlow</c>): one UDP socket. NetFlow carries no token,
/// so exporters are authenticated by source network (<see cref="AllowedSources"/>); a datagram from anywhere else is
/// dropped and counted.</summary>
public sealed class NetFlowOptions
{
    /// <summary>Configuration section.</summary>
    public const string SectionName = "NetFlow";

    /// <summary>Listen for exporters (default false).</summary>
    public bool Enabled { get; set; }

    /// <summary>Address to bind (default <c>127.0.0.1</c>; <c>0.0.0.0</c> or <c>::</c> for every interface).</summary>
    public string Address { get; set; } = "127.0.0.1";

    /// <summary>UDP port (default 2055; 0 picks a free one, see <see cref="NetFlowCollector.LocalEndPoint"/>).</summary>
    public int Port { get; set; } = 2055;

    /// <summary>Exporter networks allowed to send; the entry's name is the shipper name in <c>/v1/receivers</c>, rate
    /// limits and metrics. Required when <see cref="Enabled"/>.</summary>
    public List<AllowedSource> AllowedSources { get; set; } = [];

    /// <summary>Socket receive buffer (SO_RCVBUF) in bytes (default 4 MiB). Linux caps it at
    /// <c>net.core.rmem_max</c>; the size granted is logged at start.</summary>
    public int ReceiveBufferBytes { get; set; } = 4 << 20;

    /// <summary>Flows and dead letters per dispatched batch (default 4096); a batch is sent when it reaches this, when
    /// it holds <see cref="FlowBatch.MaxLetters"/> dead letters, or <see cref="FlushInterval"/> after its first flow.</summary>
    public int MaxBatch { get; set; } = 4096;

    /// <summary>Longest a decoded flow waits before its batch is dispatched (default 0.5 s).</summary>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How long a batch is retried while the engine's queues are full before it is counted as refused
    /// (default 2 s). UDP cannot push back on the exporter, so this bounds what the collector holds.</summary>
    public TimeSpan GiveUpAfter { get; set; } = TimeSpan.FromSeconds(2);
}

/// <summary>Checks <see cref="NetFlowOptions"/> at start: one message per bad setting, "X is V; X must be …".</summary>
internal sealed class NetFlowOptionsValidator : IValidateOptions<NetFlowOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, NetFlowOptions options)
    {
        var errors = Check(options);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    /// <summary>Every problem with <paramref name="o"/>; empty when usable. Disabled options are not checked.</summary>
    internal static List<string> Check(NetFlowOptions o)
    {
        const string P = NetFlowOptions.SectionName + ":";
        var errors = new List<string>();
        if (!o.Enabled)
        {
            return errors;
        }

        if (!IPAddress.TryParse(o.Address, out _))
        {
            errors.Add($"{P}{nameof(o.Address)} is '{o.Address}'; {P}{nameof(o.Address)} must be an IP address such as 127.0.0.1, 0.0.0.0 or ::");
        }

        if (o.Port is < 0 or > 65535)
        {
            errors.Add($"{P}{nameof(o.Port)} is {o.Port}; {P}{nameof(o.Port)} must be from 0 (any free port) to 65535, usually 2055 or 4739");
        }

        if (o.AllowedSources.Count == 0)
        {
            errors.Add($"{P}{nameof(o.AllowedSources)} is empty; {P}{nameof(o.AllowedSources)} must name at least one exporter network "
                + "(NetFlow has no token: exporters are authenticated by source address), e.g. {\"Name\": \"core-router\", \"Cidr\": \"10.0.0.1\"}");
        }

        errors.AddRange(SourceAllowlist.Validate(o.AllowedSources, P + nameof(o.AllowedSources)));
        if (o.ReceiveBufferBytes is < 64 * 1024 or > 1 << 30)
        {
            errors.Add($"{P}{nameof(o.ReceiveBufferBytes)} is {o.ReceiveBufferBytes}; {P}{nameof(o.ReceiveBufferBytes)} must be from 65536 to 1073741824");
        }

        if (o.MaxBatch is < 1 or > 65536)
        {
            errors.Add($"{P}{nameof(o.MaxBatch)} is {o.MaxBatch}; {P}{nameof(o.MaxBatch)} must be from 1 to 65536");
        }

        if (o.FlushInterval < TimeSpan.FromMilliseconds(1) || o.FlushInterval > TimeSpan.FromSeconds(60))
        {
            errors.Add($"{P}{nameof(o.FlushInterval)} is '{o.FlushInterval}'; {P}{nameof(o.FlushInterval)} must be from 00:00:00.001 to 00:01:00");
        }

        if (o.GiveUpAfter < TimeSpan.Zero || o.GiveUpAfter > TimeSpan.FromSeconds(60))
        {
            errors.Add($"{P}{nameof(o.GiveUpAfter)} is '{o.GiveUpAfter}'; {P}{nameof(o.GiveUpAfter)} must be from 00:00:00 to 00:01:00");
        }

        return errors;
    }
}
