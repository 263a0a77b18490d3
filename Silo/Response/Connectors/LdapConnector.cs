using System.DirectoryServices.Protocols;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using AnomalyZT.Grains.Interfaces;

namespace AnomalyZT.Silo.Response.Connectors;

/// <summary>An LDAP directory (OpenLDAP with the ppolicy overlay, or any server with a lock attribute): disables a
/// user by writing <see cref="ConnectorOptions.LockAttribute"/> (default <c>pwdAccountLockedTime</c> =
/// <c>000001010000Z</c>, locked until an administrator unlocks) on its entry, and restores it by deleting that
/// attribute.</summary>
/// <remarks>The entry is <see cref="ConnectorOptions.UserDnTemplate"/> with <c>{user}</c> replaced by the mapped user
/// name, escaped as an RDN value (RFC 4514). The connector binds simply as <see cref="ConnectorOptions.BindDn"/> over
/// <c>ldap://</c>, or LDAPS when <see cref="ConnectorOptions.UseTls"/>. The blocking LDAP calls run on a dedicated
/// thread; the caller waits at most <see cref="ConnectorOptions.Timeout"/> (then <see cref="DeliveryStatus.Retry"/>)
/// and stops waiting at once when cancelled. The port is reached asynchronously first, so an unreachable host costs
/// no thread.</remarks>
public sealed class LdapConnector : IIdpConnector
{
    private const string UserPlaceholder = "{user}";

    /// <summary>Most abandoned LDAP calls of one connector. The library's bind does not honour a timeout, so against a
    /// server that accepts connections and never answers, a call the caller gave up on (timeout, cancellation) keeps
    /// its thread until the server closes the connection; while this many are still running, new calls retry at once
    /// instead of starting more threads. Calls that return in time are not limited.</summary>
    internal const int MaxAbandoned = 4;

    private readonly ConnectorOptions _options;
    private readonly Regex? _subjectPattern;
    private int _abandoned;

    /// <summary>Creates the connector.</summary>
    /// <param name="name">The configured name (key under <c>Response:Connectors</c>).</param>
    /// <param name="options">Its settings: <see cref="ConnectorOptions.Host"/>, <see cref="ConnectorOptions.Port"/>,
    /// <see cref="ConnectorOptions.UseTls"/>, <see cref="ConnectorOptions.BindDn"/>,
    /// <see cref="ConnectorOptions.BindPassword"/>, <see cref="ConnectorOptions.UserDnTemplate"/>,
    /// <see cref="ConnectorOptions.LockAttribute"/>, <see cref="ConnectorOptions.LockValue"/>,
    /// <see cref="ConnectorOptions.SubjectPattern"/>, <see cref="ConnectorOptions.Timeout"/>.</param>
    /// <exception cref="InvalidOperationException">A required setting is missing or invalid.</exception>
    public LdapConnector(string name, ConnectorOptions options)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(options);
        var prefix = $"Response:Connectors:{name}:";
        if (string.IsNullOrWhiteSpace(options.Host))
        {
            throw new InvalidOperationException(prefix + "Host must be set");
        }

        if (options.Port is <= 0 or > 65535)
        {
            throw new InvalidOperationException(prefix + "Port must be between 1 and 65535");
        }

        if (!options.UserDnTemplate.Contains(UserPlaceholder, StringComparison.Ordinal))
        {
            throw new InvalidOperationException(prefix + "UserDnTemplate must contain {user}, e.g. uid={user},ou=people,dc=example,dc=org");
        }

        if (string.IsNullOrWhiteSpace(options.BindDn))
        {
            throw new InvalidOperationException(prefix + "BindDn must be set: an anonymous bind cannot lock accounts");
        }

        if (string.IsNullOrWhiteSpace(options.LockAttribute) || string.IsNullOrEmpty(options.LockValue))
        {
            throw new InvalidOperationException(prefix + "LockAttribute and LockValue must be set");
        }

        if (options.Timeout <= TimeSpan.Zero)
        {
            throw new InvalidOperationException(prefix + "Timeout must be positive");
        }

        Name = name;
        _options = options;
        _subjectPattern = ConnectorSupport.CompileSubjectPattern(options, name);
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    /// <remarks>Only <see cref="ResponseActionKind.Disable"/> and its restore: LDAP has no sessions to end.</remarks>
    public bool Supports(ResponseActionKind kind, bool restore) => kind == ResponseActionKind.Disable;

    /// <summary>The DN of <paramref name="user"/>: the template with the user escaped as an RDN value.</summary>
    public string UserDn(string user) => _options.UserDnTemplate.Replace(UserPlaceholder, EscapeRdnValue(user), StringComparison.Ordinal);

    /// <inheritdoc />
    public async Task<DeliveryResult> ExecuteAsync(ConnectorRequest request, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (ConnectorSupport.CheckDisable(this, "LDAP", _subjectPattern, request, out var user) is { } refused)
        {
            return refused;
        }

        // An empty password makes a simple bind unauthenticated (RFC 4513 §5.1.2): refuse rather than bind anonymously.
        if (ConnectorSupport.ResolveSecret(Name, "BindPassword", _options.BindPassword, required: true, out var password) is { } missing)
        {
            return missing;
        }

        ct.ThrowIfCancellationRequested();
        var deadline = DateTime.UtcNow + _options.Timeout;

        // A host that drops packets would hold the blocking connect for minutes: reach the port asynchronously first.
        if (await ProbeAsync(deadline, ct).ConfigureAwait(false) is { } unreachable)
        {
            return unreachable;
        }

        if (Volatile.Read(ref _abandoned) >= MaxAbandoned)
        {
            return new(DeliveryStatus.Retry, FormattableString.Invariant($"{MaxAbandoned} earlier LDAP calls to {Endpoint} timed out and have not returned yet"));
        }

        var dn = UserDn(user);
        var work = Task.Factory.StartNew(
            () => Deliver(dn, user, request.Restore, password, deadline, ct),
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);
        try
        {
            // Searches and modifications have their own timeouts, the bind has none: this bounds the wait for it.
            var left = deadline - DateTime.UtcNow;
            var result = await work.WaitAsync(left > TimeSpan.Zero ? left : TimeSpan.Zero, ct).ConfigureAwait(false);
            return SecretScrubber.Scrub(result, password);
        }
        catch (TimeoutException)
        {
            Abandon(work);
            return new(DeliveryStatus.Retry, FormattableString.Invariant($"LDAP call to {Endpoint} timed out after {_options.Timeout.TotalSeconds:0.###} s"));
        }
        catch (OperationCanceledException)
        {
            Abandon(work);
            throw;
        }
    }

    /// <summary>Calls of this connector that timed out or were cancelled and are still running.</summary>
    internal int Abandoned => Volatile.Read(ref _abandoned);

    private string Endpoint => FormattableString.Invariant($"{(_options.UseTls ? "ldaps" : "ldap")}://{_options.Host}:{_options.Port}");

    /// <summary><paramref name="value"/> escaped as an attribute value of a DN string (RFC 4514 §2.4): <c>"+,;&lt;&gt;\=</c>
    /// with a backslash, a leading space or <c>#</c> and a trailing space with a backslash, NUL and other control
    /// characters as <c>\XX</c>.</summary>
    public static string EscapeRdnValue(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var builder = new StringBuilder(value.Length + 8);
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            switch (c)
            {
                case '"' or '+' or ',' or ';' or '<' or '>' or '\\' or '=':
                    builder.Append('\\').Append(c);
                    break;
                case ' ' when i == 0 || i == value.Length - 1:
                    builder.Append("\\ ");
                    break;
                case '#' when i == 0:
                    builder.Append("\\#");
                    break;
                case < ' ' or '\u007f':
                    builder.Append('\\').Append(((int)c).ToString("X2", CultureInfo.InvariantCulture));
                    break;
                default:
                    builder.Append(c);
                    break;
            }
        }

        return builder.ToString();
    }

    /// <summary>The result for an LDAP operation's result code.</summary>
    internal static DeliveryStatus StatusOf(ResultCode code) => code switch
    {
        ResultCode.Busy or ResultCode.Unavailable or ResultCode.TimeLimitExceeded or ResultCode.AdminLimitExceeded => DeliveryStatus.Retry,
        _ => DeliveryStatus.Permanent,
    };

    /// <summary>The result for a client-side LDAP error code (<see cref="LdapException.ErrorCode"/>): the server's
    /// refusals (credentials, access, missing entry) are permanent, transport failures retry.</summary>
    internal static DeliveryStatus StatusOfError(int code) => code switch
    {
        // invalidDNSyntax, noSuchObject, inappropriateAuthentication, invalidCredentials, insufficientAccessRights,
        // unwillingToPerform, constraintViolation, objectClassViolation
        34 or 32 or 48 or 49 or 50 or 53 or 19 or 65 => DeliveryStatus.Permanent,

        // busy, unavailable, server down, timeout, connect error (Windows and libldap numbering), and the rest
        _ => DeliveryStatus.Retry,
    };

    private DeliveryResult Deliver(string dn, string user, bool restore, string password, DateTime deadline, CancellationToken ct)
    {
        try
        {
            var identifier = new LdapDirectoryIdentifier(_options.Host, _options.Port, fullyQualifiedDnsHostName: false, connectionless: false);
            using var connection = new LdapConnection(identifier, new NetworkCredential(_options.BindDn, password), AuthType.Basic);
            connection.SessionOptions.ProtocolVersion = 3;
            connection.SessionOptions.ReferralChasing = ReferralChasingOptions.None;
            if (_options.UseTls)
            {
                connection.SessionOptions.SecureSocketLayer = true;
            }

            connection.Timeout = Remaining(deadline);
            connection.Bind();
            ct.ThrowIfCancellationRequested();
            return restore ? Unlock(connection, dn, user, deadline) : Lock(connection, dn, user, deadline, ct);
        }
        catch (OperationCanceledException)
        {
            return new(DeliveryStatus.Retry, "cancelled");
        }
        catch (DirectoryOperationException ex) when (ex.Response is not null)
        {
            return FromResult(ex.Response, user);
        }
        catch (LdapException ex)
        {
            var detail = FormattableString.Invariant($"LDAP error {ex.ErrorCode}: {ex.Message}")
                + (string.IsNullOrEmpty(ex.ServerErrorMessage) ? string.Empty : " (" + ex.ServerErrorMessage + ")");
            return new(StatusOfError(ex.ErrorCode), ConnectorSupport.Truncate(detail));
        }
        catch (Exception ex) when (ex is DllNotFoundException or TypeInitializationException or PlatformNotSupportedException)
        {
            return new(DeliveryStatus.Permanent, "the LDAP client library (libldap) is not available: " + ConnectorSupport.Truncate(ex.Message));
        }
        catch (Exception ex)
        {
            return ConnectorSupport.FromException(ex);
        }
    }

    private DeliveryResult Lock(LdapConnection connection, string dn, string user, DateTime deadline, CancellationToken ct)
    {
        var search = new SearchRequest(dn, "(objectClass=*)", SearchScope.Base, _options.LockAttribute);
        var found = (SearchResponse)connection.SendRequest(search, Remaining(deadline));
        if (found.Entries.Count == 0)
        {
            return new(DeliveryStatus.Permanent, $"LDAP user '{user}' not found ({dn})");
        }

        var values = found.Entries[0].Attributes[_options.LockAttribute]?.GetValues(typeof(string));
        if (values is not null && Array.IndexOf(values, _options.LockValue) >= 0)
        {
            return new(DeliveryStatus.AlreadyInState, $"LDAP user '{user}' is already locked ({_options.LockAttribute}={_options.LockValue})");
        }

        ct.ThrowIfCancellationRequested();
        var modify = new ModifyRequest(dn, DirectoryAttributeOperation.Replace, _options.LockAttribute, _options.LockValue);
        var response = (ModifyResponse)connection.SendRequest(modify, Remaining(deadline));
        return response.ResultCode == ResultCode.Success
            ? new(DeliveryStatus.Done, $"LDAP user '{user}' locked ({_options.LockAttribute}={_options.LockValue})")
            : FromResult(response, user);
    }

    private DeliveryResult Unlock(LdapConnection connection, string dn, string user, DateTime deadline)
    {
        var modify = new ModifyRequest(dn, DirectoryAttributeOperation.Delete, _options.LockAttribute);
        DirectoryResponse response;
        try
        {
            response = connection.SendRequest(modify, Remaining(deadline));
        }
        catch (DirectoryOperationException ex) when (ex.Response?.ResultCode == ResultCode.NoSuchAttribute)
        {
            return new(DeliveryStatus.AlreadyInState, $"LDAP user '{user}' is not locked (no {_options.LockAttribute})");
        }

        return response.ResultCode switch
        {
            ResultCode.Success => new(DeliveryStatus.Done, $"LDAP user '{user}' unlocked ({_options.LockAttribute} removed)"),
            ResultCode.NoSuchAttribute => new(DeliveryStatus.AlreadyInState, $"LDAP user '{user}' is not locked (no {_options.LockAttribute})"),
            _ => FromResult(response, user),
        };
    }

    private static DeliveryResult FromResult(DirectoryResponse response, string user)
    {
        var code = response.ResultCode;
        var what = code == ResultCode.NoSuchObject ? $"LDAP user '{user}' not found: " : string.Empty;
        var detail = FormattableString.Invariant($"{what}LDAP {code} ({(int)code})")
            + (string.IsNullOrEmpty(response.ErrorMessage) ? string.Empty : ": " + response.ErrorMessage);
        return new(StatusOf(code), ConnectorSupport.Truncate(detail));
    }

    /// <summary>Counts <paramref name="work"/> as abandoned until it ends.</summary>
    private void Abandon(Task<DeliveryResult> work)
    {
        Interlocked.Increment(ref _abandoned);
        _ = work.ContinueWith(_ => Interlocked.Decrement(ref _abandoned), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>Null when a TCP connection to the server opens before <paramref name="deadline"/>; otherwise the retry.</summary>
    private async Task<DeliveryResult?> ProbeAsync(DateTime deadline, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(Remaining(deadline));
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(_options.Host, _options.Port, timeout.Token).ConfigureAwait(false);
            return null;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return new(DeliveryStatus.Retry, FormattableString.Invariant($"LDAP server {Endpoint} not reachable within {_options.Timeout.TotalSeconds:0.###} s"));
        }
        catch (SocketException ex)
        {
            return new(DeliveryStatus.Retry, FormattableString.Invariant($"LDAP server {Endpoint} not reachable: {ex.SocketErrorCode}"));
        }
    }

    private static TimeSpan Remaining(DateTime deadline)
    {
        var left = deadline - DateTime.UtcNow;
        return left > TimeSpan.FromMilliseconds(50) ? left : TimeSpan.FromMilliseconds(50);
    }
}
