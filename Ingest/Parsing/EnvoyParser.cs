using System.Text.Json;
using AnomalyZT.Grains.Interfaces;

namespace AnomalyZT.Ingest.Parsing;

/// <summary>Istio/Envoy JSON access log lines (EnvoyJSONLogFormatIstio keys). Numbers may be numbers, null, or the
/// old-style strings <c>"0"</c>/<c>"-"</c>.</summary>
internal sealed class EnvoyParser(FieldMap map, IngestOptions options) : JsonLineParser(map, options)
{
    private const int StartTime = 0;
    private const int Method = 1;
    private const int Path = 2;
    private const int ResponseCode = 3;
    private const int BytesReceived = 4;
    private const int BytesSent = 5;
    private const int ForwardedFor = 6;
    private const int UserAgent = 7;
    private const int RequestId = 8;
    private const int Authority = 9;
    private const int RemoteAddress = 10;

    private long _time;
    private bool _hasTime;
    private long _status;
    private long _bytesIn;
    private long _bytesOut;
    private Utf8Slice _method;
    private Utf8Slice _path;
    private Utf8Slice _forwardedFor;
    private Utf8Slice _userAgent;
    private Utf8Slice _requestId;
    private Utf8Slice _authority;
    private Utf8Slice _remote;

    /// <summary>Fields read from the line.</summary>
    public static readonly FieldSpec[] Fields =
    [
        new("start_time", StartTime), new("method", Method), new("path", Path), new("response_code", ResponseCode),
        new("bytes_received", BytesReceived), new("bytes_sent", BytesSent), new("x_forwarded_for", ForwardedFor),
        new("user_agent", UserAgent), new("request_id", RequestId), new("authority", Authority),
        new("downstream_remote_address", RemoteAddress),
    ];

    /// <summary>Principal paths, best first: SPIFFE URI SAN, XFCC URI, forwarded user headers, JWT subject.</summary>
    public static IReadOnlyList<string> DefaultPrincipalFields { get; } =
    [
        "downstream_peer_uri_san", "x_forwarded_client_cert", "x_forwarded_user", "x-forwarded-user",
        "x_auth_request_user", "jwt_sub", "jwt_subject", "user",
    ];

    protected override void ResetLine()
    {
        _hasTime = false;
        _time = _status = _bytesIn = _bytesOut = 0;
        _method = _path = _forwardedFor = _userAgent = _requestId = _authority = _remote = default;
    }

    protected override string? OnField(int fieldId, string name, ref Utf8JsonReader reader) => fieldId switch
    {
        StartTime => ReadTimestamp(ref reader, name, out _time, out _hasTime),
        Method => CaptureString(ref reader, name, out _method),
        Path => CaptureString(ref reader, name, out _path),
        ResponseCode => ReadStatus(ref reader, name, out _status),
        BytesReceived => ReadCount(ref reader, name, out _bytesIn),
        BytesSent => ReadCount(ref reader, name, out _bytesOut),
        ForwardedFor => CaptureString(ref reader, name, out _forwardedFor),
        UserAgent => CaptureString(ref reader, name, out _userAgent),
        RequestId => CaptureString(ref reader, name, out _requestId),
        Authority => CaptureString(ref reader, name, out _authority),
        RemoteAddress => CaptureString(ref reader, name, out _remote),
        _ => null,
    };

    protected override LineStatus Complete(ReadOnlySpan<byte> line, out EngineEvent evt, out string? reason)
    {
        evt = default;
        if (!_hasTime)
        {
            reason = "missing required field 'start_time'";
            return LineStatus.Rejected;
        }

        var remoteHost = Text(_remote, line, TextTransform.HostOfAddress);
        // The peer address is what Envoy saw; X-Forwarded-For is client-supplied (a stolen token could claim its
        // victim's usual address with it), so it stands in only when the log has no peer address.
        var sourceIp = remoteHost ?? Text(_forwardedFor, line, TextTransform.FirstListEntry);
        var principal = PrincipalText(line);
        var principalSource = PrincipalSource.Field;
        if (principal is null)
        {
            principal = remoteHost ?? sourceIp;
            principalSource = PrincipalSource.SourceAddress;
        }

        if (principal is null)
        {
            reason = AccessOutcomes.NoPrincipal(PrincipalList);
            return LineStatus.Rejected;
        }

        reason = null;
        evt = EngineEvent.From(new AccessEvent(
            _time,
            principal,
            principalSource,
            sourceIp,
            Text(_userAgent, line),
            SharedText(_method, line),
            Resource(line),
            AccessOutcomes.FromHttpStatus(_status),
            (int)_status,
            _bytesIn,
            _bytesOut,
            Node: null,
            Text(_requestId, line)));
        return LineStatus.Event;
    }

    private static string? ReadStatus(ref Utf8JsonReader reader, string name, out long status)
    {
        var reason = ReadCount(ref reader, name, out status);
        return reason ?? (status > 999 ? $"field '{name}' is {status}; an HTTP status must be 0-999" : null);
    }

    // authority + path without the query, or the path alone.
    private string? Resource(ReadOnlySpan<byte> line)
    {
        if (_authority.IsAbsent || _path.IsAbsent)
        {
            return Text(_path, line, TextTransform.PathWithoutQuery) ?? Text(_authority, line);
        }

        var buffer = ComposeBuffer();
        var length = Append(buffer, 0, _authority, line);
        length = Append(buffer, length, _path, line, TextTransform.PathWithoutQuery);
        return System.Text.Encoding.UTF8.GetString(buffer[..length]);
    }
}
