using System.Text;
using System.Text.Json;
using AnomalyZT.Grains.Interfaces;

namespace AnomalyZT.Ingest.Parsing;

/// <summary>Kubernetes audit log lines (<c>audit.k8s.io/v1</c> and <c>v1beta1</c> Event). Only the
/// <c>ResponseComplete</c> and <c>Panic</c> stages become events; earlier stages of the same request are
/// <see cref="LineStatus.Filtered"/> so a request is scored once.</summary>
internal sealed class K8sAuditParser(FieldMap map, IngestOptions options) : JsonLineParser(map, options)
{
    private const int Kind = 0;
    private const int Stage = 1;
    private const int AuditId = 2;
    private const int RequestUri = 3;
    private const int Verb = 4;
    private const int SourceIps = 5;
    private const int UserAgent = 6;
    private const int Resource = 7;
    private const int Subresource = 8;
    private const int Namespace = 9;
    private const int Name = 10;
    private const int Code = 11;
    private const int ReceivedAt = 12;
    private const int StageAt = 13;
    private const int Timestamp = 14;
    private const int Decision = 15;

    private Utf8Slice _kind;
    private Utf8Slice _stage;
    private Utf8Slice _auditId;
    private Utf8Slice _requestUri;
    private Utf8Slice _verb;
    private Utf8Slice _sourceIp;
    private Utf8Slice _userAgent;
    private Utf8Slice _resource;
    private Utf8Slice _subresource;
    private Utf8Slice _namespace;
    private Utf8Slice _name;
    private Utf8Slice _decision;
    private long _code;
    private long _receivedAt;
    private long _stageAt;
    private long _timestamp;
    private bool _hasReceivedAt;
    private bool _hasStageAt;
    private bool _hasTimestamp;

    /// <summary>Fields read from the line; <c>requestObject</c>/<c>responseObject</c> are skipped whole.</summary>
    public static readonly FieldSpec[] Fields =
    [
        new("kind", Kind), new("stage", Stage), new("auditID", AuditId), new("requestURI", RequestUri), new("verb", Verb),
        new("sourceIPs", SourceIps), new("userAgent", UserAgent), new("objectRef.resource", Resource),
        new("objectRef.subresource", Subresource), new("objectRef.namespace", Namespace), new("objectRef.name", Name),
        new("responseStatus.code", Code), new("requestReceivedTimestamp", ReceivedAt), new("stageTimestamp", StageAt),
        new("timestamp", Timestamp), new("annotations.authorization.k8s.io/decision", Decision),
    ];

    /// <summary>The authenticated user.</summary>
    public static IReadOnlyList<string> DefaultPrincipalFields { get; } = ["user.username"];

    protected override void ResetLine()
    {
        _kind = _stage = _auditId = _requestUri = _verb = _sourceIp = _userAgent = default;
        _resource = _subresource = _namespace = _name = _decision = default;
        _code = _receivedAt = _stageAt = _timestamp = 0;
        _hasReceivedAt = _hasStageAt = _hasTimestamp = false;
    }

    protected override string? OnField(int fieldId, string name, ref Utf8JsonReader reader) => fieldId switch
    {
        Kind => CaptureString(ref reader, name, out _kind),
        Stage => CaptureString(ref reader, name, out _stage),
        AuditId => CaptureString(ref reader, name, out _auditId),
        RequestUri => CaptureString(ref reader, name, out _requestUri),
        Verb => CaptureString(ref reader, name, out _verb),
        SourceIps => ReadPeerAddress(ref reader, name),
        UserAgent => CaptureString(ref reader, name, out _userAgent),
        Resource => CaptureString(ref reader, name, out _resource),
        Subresource => CaptureString(ref reader, name, out _subresource),
        Namespace => CaptureString(ref reader, name, out _namespace),
        Name => CaptureString(ref reader, name, out _name),
        Code => ReadCount(ref reader, name, out _code),
        ReceivedAt => ReadTimestamp(ref reader, name, out _receivedAt, out _hasReceivedAt),
        StageAt => ReadTimestamp(ref reader, name, out _stageAt, out _hasStageAt),
        Timestamp => ReadTimestamp(ref reader, name, out _timestamp, out _hasTimestamp),
        Decision => CaptureString(ref reader, name, out _decision),
        _ => null,
    };

    protected override LineStatus Complete(ReadOnlySpan<byte> line, out EngineEvent evt, out string? reason)
    {
        evt = default;
        reason = CheckKind(line);
        if (reason is not null)
        {
            return LineStatus.Rejected;
        }

        var panic = TextEqualsLower(_stage, line, "panic"u8);
        if (!panic && !TextEqualsLower(_stage, line, "responsecomplete"u8))
        {
            if (TextEqualsLower(_stage, line, "requestreceived"u8) || TextEqualsLower(_stage, line, "responsestarted"u8))
            {
                return LineStatus.Filtered;
            }

            reason = _stage.IsAbsent
                ? "missing required field 'stage'"
                : $"field 'stage' is '{Quote(_stage, line)}'; expected RequestReceived, ResponseStarted, ResponseComplete or Panic";
            return LineStatus.Rejected;
        }

        if (!_hasStageAt && !_hasReceivedAt && !_hasTimestamp)
        {
            reason = "missing required field 'stageTimestamp'";
            return LineStatus.Rejected;
        }

        var sourceIp = Text(_sourceIp, line);
        var principal = PrincipalText(line);
        var principalSource = PrincipalSource.Field;
        if (principal is null)
        {
            principal = sourceIp;
            principalSource = PrincipalSource.SourceAddress;
        }

        if (principal is null)
        {
            reason = AccessOutcomes.NoPrincipal(PrincipalList);
            return LineStatus.Rejected;
        }

        evt = EngineEvent.From(new AccessEvent(
            _hasStageAt ? _stageAt : _hasReceivedAt ? _receivedAt : _timestamp,
            principal,
            principalSource,
            sourceIp,
            Text(_userAgent, line),
            SharedText(_verb, line),
            ResourceText(line),
            AccessOutcome(panic, line),
            (int)Math.Min(_code, int.MaxValue),
            BytesIn: 0,
            BytesOut: 0,
            Node: null,
            Text(_auditId, line)));
        return LineStatus.Event;
    }

    private string? CheckKind(ReadOnlySpan<byte> line)
    {
        if (_kind.IsAbsent)
        {
            return "missing required field 'kind'";
        }

        if (TextEqualsLower(_kind, line, "event"u8))
        {
            return null;
        }

        return TextEqualsLower(_kind, line, "eventlist"u8)
            ? "kind 'EventList' is not accepted; send one audit Event per line"
            : $"kind '{Quote(_kind, line)}' is not an audit Event";
    }

    // sourceIPs lists X-Forwarded-For, X-Real-Ip, then the remote address.
    private string? ReadPeerAddress(ref Utf8JsonReader reader, string name)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        if (reader.TokenType != JsonTokenType.StartArray)
        {
            return $"field '{name}' is not an array";
        }

        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
            {
                return $"field '{name}' holds a non-string entry";
            }

            // Keep the last entry: the remote address the API server saw. Earlier entries come from
            // X-Forwarded-For / X-Real-Ip, which a client sets itself, so trusting them would let a stolen
            // credential claim its victim's usual address and slip past new-source-IP detection.
            var reason = CaptureString(ref reader, name, out _sourceIp);
            if (reason is not null)
            {
                return reason;
            }
        }

        return null;
    }

    private Outcome AccessOutcome(bool panic, ReadOnlySpan<byte> line)
    {
        if (TextEqualsLower(_decision, line, "forbid"u8))
        {
            return Outcome.Denied;
        }

        return _code switch
        {
            >= 200 and <= 299 => Outcome.Success,
            401 or 403 => Outcome.Denied,
            0 when !panic => Outcome.Unknown,
            _ => Outcome.Failure,
        };
    }

    // "secrets/status kube-system/token-x"; "nodes node-1" (cluster-scoped); "pods kube-system/" (a collection).
    private string? ResourceText(ReadOnlySpan<byte> line)
    {
        if (_resource.IsAbsent)
        {
            return Text(_requestUri, line, TextTransform.PathWithoutQuery);
        }

        var buffer = ComposeBuffer();
        var length = Append(buffer, 0, _resource, line);
        if (!_subresource.IsAbsent)
        {
            length = Append(buffer, length, "/"u8);
            length = Append(buffer, length, _subresource, line);
        }

        if (!_namespace.IsAbsent || !_name.IsAbsent)
        {
            length = Append(buffer, length, " "u8);
            if (!_namespace.IsAbsent)
            {
                length = Append(buffer, length, _namespace, line);
                length = Append(buffer, length, "/"u8);
            }

            length = Append(buffer, length, _name, line);
        }

        return Encoding.UTF8.GetString(buffer[..length]);
    }
}
