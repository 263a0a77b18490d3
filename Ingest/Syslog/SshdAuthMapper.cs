using System.Net;
using AnomalyZT.Grains.Interfaces;

namespace AnomalyZT.Ingest.Syslog;

/// <summary>Result of <see cref="SshdAuthMapper.Map"/>: an access event, or a line that carries none.</summary>
public readonly struct SshdAuthResult
{
    private SshdAuthResult(bool mapped, AccessEvent access, string? reason)
    {
        Mapped = mapped;
        Event = access;
        Reason = reason;
    }

    /// <summary>True when <see cref="Event"/> is set.</summary>
    public bool Mapped { get; }

    /// <summary>The access event, when mapped.</summary>
    public AccessEvent Event { get; }

    /// <summary>Why the line was ignored, when not mapped.</summary>
    public string? Reason { get; }

    /// <summary>A mapped line.</summary>
    public static SshdAuthResult Ok(in AccessEvent access) => new(true, access, null);

    /// <summary>An ignored line.</summary>
    public static SshdAuthResult Ignore(string reason) => new(false, default, reason);
}

/// <summary>Maps OpenSSH sshd (and its PAM session) log lines to <see cref="AccessEvent"/>s. Recognised messages:
/// <list type="bullet">
/// <item><c>Accepted METHOD for USER from IP port N ssh2[: KEYTYPE FINGERPRINT]</c> → Success, <c>ssh-login</c>.</item>
/// <item><c>Failed METHOD for [invalid user ]USER from IP port N ssh2</c> → Failure, <c>ssh-login-failed</c>.</item>
/// <item><c>Invalid user USER from IP[ port N]</c> → Failure, <c>ssh-invalid-user</c>.</item>
/// <item><c>pam_unix(sshd:session): session opened for user USER[(uid=N)] by ...</c> → Success, <c>session-open</c>.</item>
/// <item><c>pam_unix(sshd:session): session closed for user USER</c> → Success, <c>session-close</c>.</item>
/// <item><c>Connection closed by authenticating user USER IP port N [preauth]</c> and
/// <c>Disconnected from authenticating user USER IP port N [preauth]</c> → Failure, <c>ssh-preauth-closed</c>.</item>
/// </list>
/// The principal is the user (<see cref="PrincipalSource.Field"/>); user names may contain spaces, so the address is
/// found from the end of the line. Lines from other programs and other sshd messages are ignored and counted.</summary>
public sealed class SshdAuthMapper
{
    /// <summary>Action of a successful login.</summary>
    public const string LoginAction = "ssh-login";

    /// <summary>Action of a failed authentication attempt.</summary>
    public const string LoginFailedAction = "ssh-login-failed";

    /// <summary>Action of a login attempt for an unknown user.</summary>
    public const string InvalidUserAction = "ssh-invalid-user";

    /// <summary>Action of a connection dropped during authentication.</summary>
    public const string PreauthClosedAction = "ssh-preauth-closed";

    /// <summary>Action of a PAM session opening.</summary>
    public const string SessionOpenAction = "session-open";

    /// <summary>Action of a PAM session closing.</summary>
    public const string SessionCloseAction = "session-close";

    /// <summary>Resource of every sshd event.</summary>
    public const string Resource = "ssh";

    private const string InvalidUserPrefix = "invalid user ";
    private const string SessionPrefix = "pam_unix(sshd:session): session ";

    /// <summary>Lines mapped to events so far.</summary>
    public long Mapped { get; private set; }

    /// <summary>Lines ignored so far.</summary>
    public long Ignored { get; private set; }

    /// <summary>Maps one parsed syslog record.</summary>
    /// <param name="record">The record; its APP-NAME/tag must be <c>sshd</c>, <c>sshd-session</c> or <c>sshd-auth</c>
    /// (OpenSSH 9.8+ logs from the latter two).</param>
    /// <returns>The event, or the reason the line was ignored.</returns>
    public SshdAuthResult Map(SyslogRecord record)
    {
        var result = record.App is "sshd" or "sshd-session" or "sshd-auth"
            ? MapMessage(record)
            : SshdAuthResult.Ignore("not an sshd message");
        if (result.Mapped)
        {
            Mapped++;
        }
        else
        {
            Ignored++;
        }

        return result;
    }

    private static SshdAuthResult MapMessage(SyslogRecord record)
    {
        var m = record.Message.AsSpan().TrimEnd();
        if (m.StartsWith("Accepted ", StringComparison.Ordinal))
        {
            return MapMethodLine(record, m["Accepted ".Length..], Outcome.Success, LoginAction);
        }

        if (m.StartsWith("Failed ", StringComparison.Ordinal))
        {
            return MapMethodLine(record, m["Failed ".Length..], Outcome.Failure, LoginFailedAction);
        }

        if (m.StartsWith("Invalid user ", StringComparison.Ordinal))
        {
            return MapUserFrom(record, m["Invalid user ".Length..], Outcome.Failure, InvalidUserAction);
        }

        if (m.StartsWith(SessionPrefix, StringComparison.Ordinal))
        {
            return MapSession(record, m[SessionPrefix.Length..]);
        }

        if (m.StartsWith("Connection closed by authenticating user ", StringComparison.Ordinal))
        {
            return MapUserAddressPort(record, m["Connection closed by authenticating user ".Length..]);
        }

        if (m.StartsWith("Disconnected from authenticating user ", StringComparison.Ordinal))
        {
            return MapUserAddressPort(record, m["Disconnected from authenticating user ".Length..]);
        }

        return SshdAuthResult.Ignore("sshd message without an authentication outcome");
    }

    /// <summary><c>METHOD for [invalid user ]USER from IP port N ...</c>.</summary>
    private static SshdAuthResult MapMethodLine(SyslogRecord record, ReadOnlySpan<char> rest, Outcome outcome, string action)
    {
        var sp = rest.IndexOf(' ');
        if (sp <= 0 || !rest[sp..].StartsWith(" for ", StringComparison.Ordinal))
        {
            return SshdAuthResult.Ignore("unrecognised sshd authentication line");
        }

        rest = rest[(sp + " for ".Length)..];
        if (rest.StartsWith(InvalidUserPrefix, StringComparison.Ordinal))
        {
            rest = rest[InvalidUserPrefix.Length..];
        }

        return MapUserFrom(record, rest, outcome, action);
    }

    /// <summary><c>USER from IP[ port N ...]</c>; the last <c> from </c> separates user and address.</summary>
    private static SshdAuthResult MapUserFrom(SyslogRecord record, ReadOnlySpan<char> rest, Outcome outcome, string action)
    {
        var from = rest.LastIndexOf(" from ", StringComparison.Ordinal);
        if (from < 0)
        {
            return SshdAuthResult.Ignore("sshd line without ' from ADDRESS'");
        }

        var user = rest[..from];
        var after = rest[(from + " from ".Length)..];
        var sp = after.IndexOf(' ');
        var address = sp < 0 ? after : after[..sp];
        return Event(record, user, address, outcome, action);
    }

    /// <summary><c>USER IP port N [preauth]</c>; the word before the last <c> port </c> is the address.</summary>
    private static SshdAuthResult MapUserAddressPort(SyslogRecord record, ReadOnlySpan<char> rest)
    {
        var port = rest.LastIndexOf(" port ", StringComparison.Ordinal);
        if (port < 0)
        {
            return SshdAuthResult.Ignore("sshd line without 'ADDRESS port N'");
        }

        var head = rest[..port];
        var sp = head.LastIndexOf(' ');
        var user = sp < 0 ? [] : head[..sp];
        var address = head[(sp + 1)..];
        return Event(record, user, address, Outcome.Failure, PreauthClosedAction);
    }

    /// <summary><c>opened for user USER[(uid=N)] by ...</c> or <c>closed for user USER</c>.</summary>
    private static SshdAuthResult MapSession(SyslogRecord record, ReadOnlySpan<char> rest)
    {
        string action;
        if (rest.StartsWith("opened for user ", StringComparison.Ordinal))
        {
            action = SessionOpenAction;
            rest = rest["opened for user ".Length..];
            var by = rest.LastIndexOf(" by ", StringComparison.Ordinal);
            if (by >= 0)
            {
                rest = rest[..by];
            }

            if (rest.EndsWith(')') && rest.LastIndexOf("(uid=", StringComparison.Ordinal) is var uid and > 0)
            {
                rest = rest[..uid];
            }
        }
        else if (rest.StartsWith("closed for user ", StringComparison.Ordinal))
        {
            action = SessionCloseAction;
            rest = rest["closed for user ".Length..];
        }
        else
        {
            return SshdAuthResult.Ignore("unrecognised pam_unix session line");
        }

        return Event(record, rest, [], Outcome.Success, action);
    }

    private static SshdAuthResult Event(SyslogRecord record, ReadOnlySpan<char> user, ReadOnlySpan<char> address, Outcome outcome, string action)
    {
        string? sourceIp = null;
        if (!address.IsEmpty && IPAddress.TryParse(address, out _))
        {
            sourceIp = address.ToString();
        }

        string principal;
        PrincipalSource source;
        if (!user.IsEmpty)
        {
            principal = user.ToString();
            source = PrincipalSource.Field;
        }
        else if (sourceIp is not null)
        {
            principal = sourceIp;
            source = PrincipalSource.SourceAddress;
        }
        else
        {
            return SshdAuthResult.Ignore("sshd line with neither user nor address");
        }

        return SshdAuthResult.Ok(new AccessEvent(
            record.TimestampMs, principal, source, sourceIp, null, action, Resource, outcome, 0, 0, 0, record.Host, record.ProcId));
    }
}
