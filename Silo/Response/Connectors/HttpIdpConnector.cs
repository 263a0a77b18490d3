using System.Text.RegularExpressions;
using AnomalyZT.Grains.Interfaces;

namespace AnomalyZT.Silo.Response.Connectors;

/// <summary>What the connectors for a provider's HTTP API (<see cref="KeycloakConnector"/>, <see cref="OktaConnector"/>,
/// <see cref="GraphConnector"/>, <see cref="WebhookConnector"/>) share: the checks before any call (the kind, the subject
/// mapping) and one delivery under <see cref="ConnectorOptions.Timeout"/> (see <see cref="ConnectorHttp.RunAsync"/>).</summary>
public abstract class HttpIdpConnector : IIdpConnector
{
    private readonly string _type;
    private readonly Regex? _pattern;

    /// <summary>Checks the arguments and compiles <see cref="ConnectorOptions.SubjectPattern"/>.</summary>
    /// <param name="type">The connector type (<see cref="ConnectorTypes"/>), as named in details.</param>
    /// <param name="name">Its configured name.</param>
    /// <param name="options">Its options.</param>
    /// <param name="http">The shared client; per-request headers only.</param>
    /// <param name="time">The clock.</param>
    /// <exception cref="InvalidOperationException">The subject pattern is invalid.</exception>
    private protected HttpIdpConnector(string type, string name, ConnectorOptions options, HttpClient http, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(time);
        _type = type;
        Name = name;
        Options = options;
        Http = http;
        Time = time;
        _pattern = ConnectorSupport.CompileSubjectPattern(options, name);
    }

    /// <inheritdoc/>
    public string Name { get; }

    /// <summary>The connector's options.</summary>
    private protected ConnectorOptions Options { get; }

    /// <summary>The shared client.</summary>
    private protected HttpClient Http { get; }

    /// <summary>The clock.</summary>
    private protected TimeProvider Time { get; }

    /// <inheritdoc/>
    public abstract bool Supports(ResponseActionKind kind, bool restore);

    /// <inheritdoc/>
    public Task<DeliveryResult> ExecuteAsync(ConnectorRequest request, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!Supports(request.Kind, request.Restore))
        {
            return Task.FromResult(Unsupported(request));
        }

        if (ConnectorSupport.MapSubject(_pattern, request.Subject) is not { } user)
        {
            return Task.FromResult(new DeliveryResult(DeliveryStatus.Permanent,
                $"subject '{ConnectorSupport.Truncate(request.Subject)}' does not match Response:Connectors:{Name}:SubjectPattern"));
        }

        if (Refuse(request, user) is { } refused)
        {
            return Task.FromResult(refused);
        }

        return ConnectorHttp.RunAsync(Options.Timeout, t => DeliverAsync(request, user, t), ct);
    }

    /// <summary>True for <see cref="ResponseActionKind.RevokeSessions"/> and <see cref="ResponseActionKind.RequireReauth"/>
    /// (no restore: sessions stay ended), and for <see cref="ResponseActionKind.Disable"/> and its restore.</summary>
    private protected static bool SupportsSessionsAndDisable(ResponseActionKind kind, bool restore) => kind switch
    {
        ResponseActionKind.RevokeSessions or ResponseActionKind.RequireReauth => !restore,
        ResponseActionKind.Disable => true,
        _ => false,
    };

    /// <summary>The permanent result for a request <see cref="Supports"/> refuses.</summary>
    private protected virtual DeliveryResult Unsupported(ConnectorRequest request) =>
        new(DeliveryStatus.Permanent, $"{_type} connector '{Name}' does not support {request.Kind}{(request.Restore ? " restore" : string.Empty)}");

    /// <summary>A permanent result for a supported request that still cannot be delivered to mapped
    /// <paramref name="user"/>, found before any call; null when it can go ahead.</summary>
    private protected virtual DeliveryResult? Refuse(ConnectorRequest request, string user) => null;

    /// <summary>Delivers <paramref name="request"/> to mapped <paramref name="user"/>; <paramref name="ct"/> carries the
    /// timeout.</summary>
    private protected abstract Task<DeliveryResult> DeliverAsync(ConnectorRequest request, string user, CancellationToken ct);
}
