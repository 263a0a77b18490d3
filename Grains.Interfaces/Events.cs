namespace AnomalyZT.Grains.Interfaces;

/// <summary>Result of the action an access event records.</summary>
public enum Outcome : byte
{
    /// <summary>The source did not say.</summary>
    Unknown = 0,

    /// <summary>Allowed and completed.</summary>
    Success = 1,

    /// <summary>Attempted and failed (5xx, errors, failed logins).</summary>
    Failure = 2,

    /// <summary>Refused by authentication or authorization (401/403, RBAC deny).</summary>
    Denied = 3,
}

/// <summary>Where the principal of an access event came from.</summary>
public enum PrincipalSource : byte
{
    /// <summary>A field that names the caller (user name, SPIFFE id, JWT subject, forwarded user).</summary>
    Field = 0,

    /// <summary>No identity field was present; the source address stands in as a last resort.</summary>
    SourceAddress = 1,
}

/// <summary>One authenticated (or attempted) access: Envoy/Istio, Kubernetes audit, cloud audit, sshd, generic.</summary>
/// <param name="TimestampMs">Event time, Unix milliseconds UTC.</param>
/// <param name="Principal">Who acted.</param>
/// <param name="PrincipalSource">Whether <paramref name="Principal"/> is a real identity or the source address.</param>
/// <param name="SourceIp">Client address, without port.</param>
/// <param name="UserAgent">Client user agent.</param>
/// <param name="Action">Verb or method (GET, list, AssumeRole, ssh-login).</param>
/// <param name="Resource">What was acted on (path, k8s resource, bucket/object).</param>
/// <param name="Outcome">Success, failure or denial.</param>
/// <param name="StatusCode">Protocol status (HTTP code) or 0.</param>
/// <param name="BytesIn">Bytes the principal sent.</param>
/// <param name="BytesOut">Bytes returned to the principal (data pulled out).</param>
/// <param name="Node">Node that served the request, when known.</param>
/// <param name="SessionId">Session, token or request correlation id, when known.</param>
/// <param name="Token">The OAuth access token the request carried, when the shipper sends it (generic <c>token</c>
/// field). Ingest moves it to the in-memory token vault (for <c>revoke_token</c>) and clears it before the event enters
/// the runtime, so it is never stored, snapshotted or dead-lettered.</param>
public readonly record struct AccessEvent(
    long TimestampMs,
    string Principal,
    PrincipalSource PrincipalSource,
    string? SourceIp,
    string? UserAgent,
    string? Action,
    string? Resource,
    Outcome Outcome,
    int StatusCode,
    long BytesIn,
    long BytesOut,
    string? Node,
    string? SessionId,
    string? Token = null);

/// <summary>One network flow (NetFlow/IPFIX record, Zeek conn.log line, VPC flow record).</summary>
/// <param name="TimestampMs">Flow start, Unix milliseconds UTC.</param>
/// <param name="SrcIp">Originator address.</param>
/// <param name="SrcPort">Originator port (0 when the protocol has none).</param>
/// <param name="DstIp">Responder address.</param>
/// <param name="DstPort">Responder port.</param>
/// <param name="Protocol">IANA protocol number (6 TCP, 17 UDP, 1 ICMP).</param>
/// <param name="OrigBytes">Bytes sent by the originator.</param>
/// <param name="RespBytes">Bytes sent by the responder.</param>
/// <param name="Packets">Packets in both directions.</param>
/// <param name="DurationMs">Flow duration in milliseconds.</param>
/// <param name="Exporter">Who reported the flow (exporter address, Zeek sensor).</param>
public readonly record struct FlowEvent(
    long TimestampMs,
    string SrcIp,
    int SrcPort,
    string DstIp,
    int DstPort,
    byte Protocol,
    long OrigBytes,
    long RespBytes,
    long Packets,
    long DurationMs,
    string? Exporter);

/// <summary>One GPU utilisation sample (dcgm-exporter fields). Missing numbers are NaN.</summary>
/// <param name="TimestampMs">Sample time, Unix milliseconds UTC.</param>
/// <param name="Node">Host the GPU sits in (dcgm-exporter <c>Hostname</c>/<c>hostname</c> label).</param>
/// <param name="GpuUuid">GPU UUID.</param>
/// <param name="GpuIndex">GPU index on the host, -1 when unknown.</param>
/// <param name="UtilPct">DCGM_FI_DEV_GPU_UTIL, percent.</param>
/// <param name="MemUsedMiB">DCGM_FI_DEV_FB_USED, MiB.</param>
/// <param name="PowerW">DCGM_FI_DEV_POWER_USAGE, watts.</param>
/// <param name="Pod">Kubernetes pod using the GPU, when dcgm-exporter runs in Kubernetes mode.</param>
/// <param name="Namespace">Kubernetes namespace of that pod.</param>
public readonly record struct GpuSample(
    long TimestampMs,
    string Node,
    string? GpuUuid,
    int GpuIndex,
    double UtilPct,
    double MemUsedMiB,
    double PowerW,
    string? Pod,
    string? Namespace);

/// <summary>Which of the three event kinds an <see cref="EngineEvent"/> holds.</summary>
public enum EventKind : byte
{
    /// <summary><see cref="AccessEvent"/>.</summary>
    Access = 1,

    /// <summary><see cref="FlowEvent"/>.</summary>
    Flow = 2,

    /// <summary><see cref="GpuSample"/>.</summary>
    Gpu = 3,
}

/// <summary>A normalized event of one of the three kinds; what parsers produce and the router consumes.</summary>
public readonly struct EngineEvent
{
    private EngineEvent(EventKind kind, in AccessEvent access, in FlowEvent flow, in GpuSample gpu)
    {
        Kind = kind;
        Access = access;
        Flow = flow;
        Gpu = gpu;
    }

    /// <summary>Which member is set.</summary>
    public EventKind Kind { get; }

    /// <summary>Set when <see cref="Kind"/> is <see cref="EventKind.Access"/>.</summary>
    public AccessEvent Access { get; }

    /// <summary>Set when <see cref="Kind"/> is <see cref="EventKind.Flow"/>.</summary>
    public FlowEvent Flow { get; }

    /// <summary>Set when <see cref="Kind"/> is <see cref="EventKind.Gpu"/>.</summary>
    public GpuSample Gpu { get; }

    /// <summary>Event time of whichever member is set, Unix milliseconds UTC.</summary>
    public long TimestampMs => Kind switch
    {
        EventKind.Access => Access.TimestampMs,
        EventKind.Flow => Flow.TimestampMs,
        EventKind.Gpu => Gpu.TimestampMs,
        _ => 0,
    };

    /// <summary>Wraps an access event.</summary>
    public static EngineEvent From(in AccessEvent access) => new(EventKind.Access, access, default, default);

    /// <summary>Wraps a flow.</summary>
    public static EngineEvent From(in FlowEvent flow) => new(EventKind.Flow, default, flow, default);

    /// <summary>Wraps a GPU sample.</summary>
    public static EngineEvent From(in GpuSample gpu) => new(EventKind.Gpu, default, default, gpu);
}
