using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Ingest.Syslog;

namespace AnomalyZT.Tests.Ingest.Syslog;

public sealed class SshdAuthMapperTests
{
    private const long Ts = 1_795_000_000_000;

    private static SyslogRecord Record(string message, string? app = "sshd", string? host = "bastion-1", string? pid = "812") =>
        new(Ts, host, app, pid, null, message, 4, 6, SyslogFormat.Rfc3164, []);

    private static AccessEvent Mapped(string message, string app = "sshd")
    {
        var result = new SshdAuthMapper().Map(Record(message, app));
        Assert.True(result.Mapped, result.Reason);
        Assert.Equal(Ts, result.Event.TimestampMs);
        Assert.Equal("bastion-1", result.Event.Node);
        Assert.Equal(SshdAuthMapper.Resource, result.Event.Resource);
        return result.Event;
    }

    [Theory]
    [InlineData("Accepted password for alice from 10.0.0.5 port 51234 ssh2", "alice", "10.0.0.5")]
    [InlineData("Accepted publickey for alice from 10.0.0.5 port 51234 ssh2: ED25519 SHA256:Xq7mGfJ8n0a1b2c3d4e5f6g7h8i9j0kLmNoPqRsTuVw", "alice", "10.0.0.5")]
    [InlineData("Accepted publickey for deploy from 2001:db8:0:1::42 port 40022 ssh2: RSA SHA256:abc", "deploy", "2001:db8:0:1::42")]
    [InlineData("Accepted keyboard-interactive/pam for carol from fe80::1%eth0 port 2222 ssh2", "carol", "fe80::1%eth0")]
    public void Map_Accepted_SuccessfulLogin(string message, string user, string ip)
    {
        var e = Mapped(message);

        Assert.Equal((user, PrincipalSource.Field, ip), (e.Principal, e.PrincipalSource, e.SourceIp));
        Assert.Equal((Outcome.Success, SshdAuthMapper.LoginAction), (e.Outcome, e.Action));
        Assert.Equal("812", e.SessionId);
    }

    [Theory]
    [InlineData("Failed password for root from 203.0.113.9 port 60000 ssh2", "root", "203.0.113.9")]
    [InlineData("Failed password for invalid user admin from 203.0.113.9 port 60000 ssh2", "admin", "203.0.113.9")]
    [InlineData("Failed publickey for bob from ::ffff:192.0.2.1 port 1 ssh2: ECDSA SHA256:zz", "bob", "::ffff:192.0.2.1")]
    [InlineData("Failed password for invalid user ali ce from 2001:db8::9 port 22 ssh2", "ali ce", "2001:db8::9")]
    public void Map_Failed_FailedLogin(string message, string user, string ip)
    {
        var e = Mapped(message);

        Assert.Equal((user, ip), (e.Principal, e.SourceIp));
        Assert.Equal((Outcome.Failure, SshdAuthMapper.LoginFailedAction), (e.Outcome, e.Action));
    }

    [Theory]
    [InlineData("Invalid user oracle from 198.51.100.7 port 41000", "oracle", "198.51.100.7")]
    [InlineData("Invalid user test from 2001:db8::dead:beef port 41000", "test", "2001:db8::dead:beef")]
    [InlineData("Invalid user guest from 198.51.100.7", "guest", "198.51.100.7")]
    public void Map_InvalidUser_Failure(string message, string user, string ip)
    {
        var e = Mapped(message, "sshd-session");

        Assert.Equal((user, ip), (e.Principal, e.SourceIp));
        Assert.Equal((Outcome.Failure, SshdAuthMapper.InvalidUserAction), (e.Outcome, e.Action));
    }

    [Fact]
    public void Map_InvalidEmptyUser_AddressStandsIn()
    {
        var e = Mapped("Invalid user  from 198.51.100.7 port 41000");

        Assert.Equal(("198.51.100.7", PrincipalSource.SourceAddress), (e.Principal, e.PrincipalSource));
    }

    [Theory]
    [InlineData("pam_unix(sshd:session): session opened for user alice(uid=1000) by (uid=0)", "alice", SshdAuthMapper.SessionOpenAction)]
    [InlineData("pam_unix(sshd:session): session opened for user alice by (uid=0)", "alice", SshdAuthMapper.SessionOpenAction)]
    [InlineData("pam_unix(sshd:session): session closed for user alice", "alice", SshdAuthMapper.SessionCloseAction)]
    public void Map_PamSession_SuccessWithoutAddress(string message, string user, string action)
    {
        var e = Mapped(message);

        Assert.Equal((user, PrincipalSource.Field), (e.Principal, e.PrincipalSource));
        Assert.Null(e.SourceIp);
        Assert.Equal((Outcome.Success, action), (e.Outcome, e.Action));
    }

    [Theory]
    [InlineData("Connection closed by authenticating user root 192.0.2.44 port 50514 [preauth]", "root", "192.0.2.44")]
    [InlineData("Connection closed by authenticating user git 2001:db8::44 port 50514 [preauth]", "git", "2001:db8::44")]
    [InlineData("Disconnected from authenticating user root 192.0.2.44 port 50514 [preauth]", "root", "192.0.2.44")]
    public void Map_PreauthClose_Failure(string message, string user, string ip)
    {
        var e = Mapped(message, "sshd-auth");

        Assert.Equal((user, ip), (e.Principal, e.SourceIp));
        Assert.Equal((Outcome.Failure, SshdAuthMapper.PreauthClosedAction), (e.Outcome, e.Action));
    }

    [Theory]
    [InlineData("sshd", "Received disconnect from 192.0.2.1 port 22:11: disconnected by user")]
    [InlineData("sshd", "Server listening on 0.0.0.0 port 22.")]
    [InlineData("sshd", "Accepted")]
    [InlineData("sshd", "Failed password")]
    [InlineData("sshd", "pam_unix(sshd:session): session weird")]
    [InlineData("sudo", "Accepted password for alice from 10.0.0.5 port 51234 ssh2")]
    [InlineData("cron", "pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)")]
    public void Map_OtherLines_IgnoredAndCounted(string app, string message)
    {
        var mapper = new SshdAuthMapper();

        var result = mapper.Map(Record(message, app));

        Assert.False(result.Mapped);
        Assert.NotNull(result.Reason);
        Assert.Equal((0, 1), (mapper.Mapped, mapper.Ignored));
    }

    [Fact]
    public void Map_FromParsedSyslog_EndToEnd()
    {
        var parser = new SyslogMessageParser(new FixedClock(new DateTimeOffset(2026, 11, 22, 14, 0, 0, TimeSpan.Zero)));
        var record = parser.Parse("<38>Nov 22 13:59:22 gpu-node-03 sshd[4711]: Accepted publickey for svc-train from 2001:db8::7 port 50022 ssh2: ED25519 SHA256:abc"u8).Record!;

        var e = new SshdAuthMapper().Map(record).Event;

        Assert.Equal(("svc-train", "2001:db8::7", "gpu-node-03", "4711"), (e.Principal, e.SourceIp, e.Node, e.SessionId));
        Assert.Equal(new DateTimeOffset(2026, 11, 22, 13, 59, 22, TimeSpan.Zero).ToUnixTimeMilliseconds(), e.TimestampMs);
    }
}
