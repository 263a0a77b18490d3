// A recording HTTP stub for the provider contract tests: a real Kestrel server on 127.0.0.1:0 that records every
// request (method, path as sent, query, headers, body) and answers with what the test's handler returns, i.e. the
// response shapes the providers document (see the comment at the top of each *ContractTests file).

using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Silo.Response.Connectors;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AnomalyZT.Tests.Response.Contracts;

/// <summary>One request as the stub received it.</summary>
public sealed record RecordedRequest(
    string Method,
    string Path,
    string RawTarget,
    string Query,
    IReadOnlyDictionary<string, string> Headers,
    byte[] BodyBytes)
{
    public string Body => Encoding.UTF8.GetString(BodyBytes);

    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;

    /// <summary>The body as an <c>application/x-www-form-urlencoded</c> form.</summary>
    public IReadOnlyDictionary<string, string> Form =>
        Body.Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(pair => pair.Split('=', 2))
            .ToDictionary(p => WebUtility.UrlDecode(p[0]), p => p.Length > 1 ? WebUtility.UrlDecode(p[1]) : string.Empty, StringComparer.Ordinal);

    /// <summary>Everything sent, headers and body, as one string (to check that a secret is never on the wire).</summary>
    public string Everything => string.Join("\n", Headers.Select(h => h.Key + ": " + h.Value)) + "\n" + RawTarget + "\n" + Body;
}

/// <summary>What the stub answers.</summary>
public sealed record StubResponse(int Status, string? Body = null, IReadOnlyDictionary<string, string>? Headers = null, TimeSpan Delay = default)
{
    public static StubResponse Json(int status, string body, params (string Name, string Value)[] headers) =>
        new(status, body, headers.ToDictionary(h => h.Name, h => h.Value, StringComparer.OrdinalIgnoreCase));

    public static StubResponse Empty(int status, params (string Name, string Value)[] headers) =>
        new(status, null, headers.ToDictionary(h => h.Name, h => h.Value, StringComparer.OrdinalIgnoreCase));
}

/// <summary>The stub server, started once per test class (class fixture); each test installs its handler with
/// <see cref="Reset"/>, which also forgets earlier requests.</summary>
public sealed class ProviderStub : IAsyncLifetime
{
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();
    private WebApplication? _app;
    private volatile Func<RecordedRequest, StubResponse> _handler = _ => StubResponse.Empty(404);

    /// <summary>Base URL without a trailing slash, e.g. <c>http://127.0.0.1:41234</c>.</summary>
    public string Url { get; private set; } = string.Empty;

    public IReadOnlyList<RecordedRequest> Requests => [.. _requests];

    public void Reset(Func<RecordedRequest, StubResponse> handler)
    {
        _requests.Clear();
        _handler = handler;
    }

    public async ValueTask InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.Urls.Add("http://127.0.0.1:0");
        app.Run(HandleAsync);
        await app.StartAsync();
        _app = app;
        Url = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First().TrimEnd('/');
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body, context.RequestAborted);
        var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        var recorded = new RecordedRequest(
            context.Request.Method,
            context.Request.Path.Value ?? string.Empty,
            context.Features.GetRequiredFeature<IHttpRequestFeature>().RawTarget,
            context.Request.QueryString.Value ?? string.Empty,
            headers,
            body.ToArray());
        _requests.Enqueue(recorded);
        var response = _handler(recorded);
        if (response.Delay > TimeSpan.Zero)
        {
            try
            {
                await Task.Delay(response.Delay, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }

        context.Response.StatusCode = response.Status;
        foreach (var (name, value) in response.Headers ?? new Dictionary<string, string>())
        {
            context.Response.Headers[name] = value;
        }

        if (response.Body is not null)
        {
            context.Response.ContentType ??= "application/json";
            await context.Response.WriteAsync(response.Body, context.RequestAborted);
        }
    }
}

/// <summary>A clock the test moves.</summary>
public sealed class ManualTime(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;

    public void Advance(TimeSpan by) => Now += by;
}

/// <summary>Shared bits of the contract tests.</summary>
internal static class Contract
{
    public static readonly DateTimeOffset T0 = new(2026, 11, 20, 9, 0, 0, TimeSpan.Zero);

    public static CancellationToken Ct => TestContext.Current.CancellationToken;

    public const string ActionId = "0123456789abcdef0123456789abcdef";

    public static ConnectorRequest Request(ResponseActionKind kind, string subject, bool restore = false, string? token = null) =>
        new(ActionId, kind, subject, restore, token);

    /// <summary>An http URL on which nothing listens (connection refused).</summary>
    public static string ClosedPortUrl()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return FormattableString.Invariant($"http://127.0.0.1:{port}");
    }

    /// <summary>Parses JSON for structural comparisons.</summary>
    public static JsonElement Json(string text)
    {
        using var doc = JsonDocument.Parse(text);
        return doc.RootElement.Clone();
    }
}
