using System.DirectoryServices.Protocols;
using System.Globalization;
using System.Net;
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
/// thread, bounded by <see cref="ConnectorOptions.Timeout"/>; the caller stops waiting when cancelled.</remarks>
public sealed class LdapConnector : IIdpConnector
{
    private const string UserPlaceholder = "{user}";

    private readonly ConnectorOptions _options;
    private readonly Regex? _subjectPattern;

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
        if (!Supports(request.Kind, request.Restore))
        {
            return new(DeliveryStatus.Permanent, $"LDAP connector '{Name}' cannot {request.Kind}; it supports Disable and its restore only");
        }

        var user = ConnectorSupport.MapSubject(_subjectPattern, request.Subject);
        if (user is null)
        {
            return new(DeliveryStatus.Permanent, $"subject '{ConnectorSupport.Truncate(request.Subject)}' does not match SubjectPattern of connector '{Name}'");
        }

        string password;
        try
        {
            password = SecretReference.Resolve(_options.BindPassword, $"Response:Connectors:{Name}:BindPassword");
        }
        catch (InvalidOperationException ex)
        {
            return new(DeliveryStatus.Permanent, ex.Message);
        }

        if (password.Length == 0)
        {
            // An empty password makes a simple bind unauthenticated (RFC 4513 §5.1.2): refuse rather than bind anonymously.
            return new(DeliveryStatus.Permanent, $"Response:Connectors:{Name}:BindPassword is not configured");
        }

        ct.ThrowIfCancellationRequested();
        var dn = UserDn(user);
        var deadline = DateTime.UtcNow + _options.Timeout;
        var work = Task.Factory.StartNew(
            () => Deliver(dn, user, request.Restore, password, deadline, ct),
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);
        try
        {
            // The LDAP calls have their own timeouts; this bounds the wait if the library does not honour them.
            var result = await work.WaitAsync(_options.Timeout + TimeSpan.FromSeconds(1), ct).ConfigureAwait(false);
            return SecretScrubber.Scrub(result, password);
        }
        catch (TimeoutException)
        {
            return new(DeliveryStatus.Retry, FormattableString.Invariant($"LDAP call timed out after {_options.Timeout.TotalSeconds:0.###} s"));
        }
    }

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

    private static TimeSpan Remaining(DateTime deadline)
    {
        var left = deadline - DateTime.UtcNow;
        return left > TimeSpan.FromMilliseconds(50) ? left : TimeSpan.FromMilliseconds(50);
    }
}
