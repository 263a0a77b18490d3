using System.Net;
using System.Text.RegularExpressions;
using AnomalyZT.Grains.Interfaces;

namespace AnomalyZT.Silo.Response.Connectors;

/// <summary>What every connector needs: subject mapping and the mapping of transport outcomes to
/// <see cref="DeliveryResult"/>.</summary>
public static class ConnectorSupport
{
    /// <summary>Most characters of a provider's answer kept in <see cref="DeliveryResult.Detail"/>.</summary>
    public const int MaxDetail = 300;

    /// <summary>Compiles <see cref="ConnectorOptions.SubjectPattern"/>, or null when empty.</summary>
    /// <exception cref="InvalidOperationException">Invalid pattern, or one without a <c>user</c> group.</exception>
    public static Regex? CompileSubjectPattern(ConnectorOptions options, string name)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrEmpty(options.SubjectPattern))
        {
            return null;
        }

        Regex regex;
        try
        {
            regex = new Regex(options.SubjectPattern, RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(100));
        }
        catch (ArgumentException ex)
        {
            throw new InvalidOperationException($"Response:Connectors:{name}:SubjectPattern is not a valid regular expression: {ex.Message}");
        }

        return Array.IndexOf(regex.GetGroupNames(), "user") >= 0
            ? regex
            : throw new InvalidOperationException($"Response:Connectors:{name}:SubjectPattern must have a named group 'user', e.g. ^(?<user>[^@]+)@");
    }

    /// <summary>The provider's user name for <paramref name="subject"/>, or null when the pattern does not match.</summary>
    public static string? MapSubject(Regex? pattern, string subject)
    {
        ArgumentNullException.ThrowIfNull(subject);
        if (pattern is null)
        {
            return subject.Length == 0 ? null : subject;
        }

        var match = pattern.Match(subject);
        return match.Success && match.Groups["user"].Value is { Length: > 0 } user ? user : null;
    }

    /// <summary>The result for an HTTP answer: 2xx done, 404/409 as the caller decides, 408/425/429/5xx retry,
    /// other 4xx permanent.</summary>
    public static DeliveryResult FromHttp(HttpStatusCode status, string body)
    {
        var code = (int)status;
        var detail = FormattableString.Invariant($"HTTP {code}") + (string.IsNullOrWhiteSpace(body) ? string.Empty : ": " + Truncate(body));
        return code switch
        {
            >= 200 and < 300 => new(DeliveryStatus.Done, detail),
            408 or 425 or 429 or >= 500 => new(DeliveryStatus.Retry, detail),
            _ => new(DeliveryStatus.Permanent, detail),
        };
    }

    /// <summary>The result for an exception thrown by a transport: timeouts and network errors retry.</summary>
    public static DeliveryResult FromException(Exception ex)
    {
        ArgumentNullException.ThrowIfNull(ex);
        return new(DeliveryStatus.Retry, ex.GetType().Name + ": " + Truncate(ex.Message));
    }

    /// <summary>The configuration key <c>Response:Connectors:{name}:{key}</c>.</summary>
    internal static string Key(string name, string key) => $"Response:Connectors:{name}:{key}";

    /// <summary>The checks before any call of a connector that supports only <see cref="ResponseActionKind.Disable"/>
    /// and its restore (SCIM, LDAP): the permanent result for another kind, or for a subject the pattern does not map;
    /// null, with <paramref name="user"/> set, when the call can go ahead.</summary>
    internal static DeliveryResult? CheckDisable(IIdpConnector connector, string label, Regex? pattern, ConnectorRequest request, out string user)
    {
        user = string.Empty;
        if (!connector.Supports(request.Kind, request.Restore))
        {
            return new(DeliveryStatus.Permanent, $"{label} connector '{connector.Name}' cannot {request.Kind}; it supports Disable and its restore only");
        }

        if (MapSubject(pattern, request.Subject) is not { } mapped)
        {
            return new(DeliveryStatus.Permanent, $"subject '{Truncate(request.Subject)}' does not match SubjectPattern of connector '{connector.Name}'");
        }

        user = mapped;
        return null;
    }

    /// <summary>Resolves the secret <paramref name="reference"/> of <see cref="Key"/>(<paramref name="name"/>,
    /// <paramref name="key"/>): the permanent result when it cannot be resolved (the message names the key, never the
    /// secret) or, when <paramref name="required"/>, when it is empty; null, with <paramref name="secret"/> set, otherwise.</summary>
    internal static DeliveryResult? ResolveSecret(string name, string key, string reference, bool required, out string secret)
    {
        try
        {
            secret = SecretReference.Resolve(reference, Key(name, key));
        }
        catch (InvalidOperationException ex)
        {
            secret = string.Empty;
            return new(DeliveryStatus.Permanent, ex.Message);
        }

        return required && secret.Length == 0 ? new(DeliveryStatus.Permanent, $"{Key(name, key)} is not configured") : null;
    }

    /// <summary><paramref name="baseUrl"/> as an absolute http(s) URL.</summary>
    /// <exception cref="InvalidOperationException">It is not one; the message names the <c>BaseUrl</c> key of
    /// <paramref name="name"/> and says it must be the URL of <paramref name="what"/>.</exception>
    internal static Uri HttpBaseUrl(string name, string baseUrl, string what) =>
        Uri.TryCreate(baseUrl, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            ? uri
            : throw new InvalidOperationException($"{Key(name, "BaseUrl")} must be the absolute http(s) URL of {what}");

    /// <summary>Cuts <paramref name="text"/> to <see cref="MaxDetail"/> characters on one line.</summary>
    public static string Truncate(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var line = text.ReplaceLineEndings(" ").Trim();
        return line.Length <= MaxDetail ? line : line[..MaxDetail] + "…";
    }
}
