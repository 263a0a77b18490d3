using AnomalyZT.Silo.Receivers;
using AnomalyZT.Silo.Receivers.Syslog;
using AnomalyZT.Tests.Silo;
using Microsoft.Extensions.Options;

namespace AnomalyZT.Tests.Receivers.Syslog;

/// <summary>Validation of the <c>Syslog</c> section: each problem named with its key and value.</summary>
public sealed class SyslogReceiverOptionsTests
{
    [Fact]
    public void Check_DefaultOptions_HaveNoListenersAndNoErrors()
    {
        var options = new SyslogReceiverOptions();
        Assert.Empty(options.Listeners);
        Assert.Empty(SyslogReceiverOptionsValidator.Check(options));
    }

    [Fact]
    public void Check_UdpAndTcpWithoutAllowedSources_AreRefused_TlsIsNot()
    {
        var options = new SyslogReceiverOptions
        {
            Listeners =
            [
                new() { Name = "u", Protocol = SyslogProtocol.Udp },
                new() { Name = "t", Protocol = SyslogProtocol.Tcp },
            ],
        };
        var errors = SyslogReceiverOptionsValidator.Check(options);
        Assert.Equal(2, errors.Count);
        Assert.All(errors, e => Assert.Contains("AllowedSources is empty", e, StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Syslog:Listeners:1:AllowedSources", StringComparison.Ordinal));
    }

    [Fact]
    public void Check_BadValues_AreEachNamedWithKeyAndValue()
    {
        var options = new SyslogReceiverOptions
        {
            Rfc3164TimeZoneOffset = TimeSpan.FromHours(15),
            Listeners =
            [
                new()
                {
                    Name = "bad name", Protocol = SyslogProtocol.Tls, Address = "localhost", Port = 70000, MaxMessageBytes = 10, MaxConnections = 0,
                    IdleTimeout = TimeSpan.Zero, AllowedSources = [new AllowedSource { Name = "x", Cidr = "10.0.0.0/99" }],
                    Tls = new SyslogTlsOptions { CertificateFile = "/nonexistent/server.pem" },
                },
                new() { Name = "dup", AllowedSources = [new AllowedSource { Name = "a", Cidr = "127.0.0.1" }] },
                new() { Name = "dup", AllowedSources = [new AllowedSource { Name = "a", Cidr = "127.0.0.1" }] },
            ],
        };
        var errors = SyslogReceiverOptionsValidator.Check(options);
        string[] expected =
        [
            "Syslog:Rfc3164TimeZoneOffset is '15:00:00'",
            "Syslog:Listeners:0:Name is 'bad name'",
            "Syslog:Listeners:0:Address is 'localhost'",
            "Syslog:Listeners:0:Port is 70000",
            "Syslog:Listeners:0:AllowedSources:0:Cidr is '10.0.0.0/99'",
            "Syslog:Listeners:0:MaxMessageBytes is 10",
            "Syslog:Listeners:0:MaxConnections is 0",
            "Syslog:Listeners:0:IdleTimeout is '00:00:00'",
            "Syslog:Listeners:0:Tls:CertificateFile is '/nonexistent/server.pem'; it must be an existing PEM file",
            "Syslog:Listeners:0:Tls:KeyFile is empty",
            "Syslog:Listeners:0:Tls:ClientCaFile is empty",
            "Syslog:Listeners:2:Name is 'dup'; it must be unique",
        ];
        foreach (var prefix in expected)
        {
            Assert.Contains(errors, e => e.StartsWith(prefix, StringComparison.Ordinal));
        }

        Assert.Equal(expected.Length, errors.Count);
        Assert.All(errors, e => Assert.Contains("; it must be", e, StringComparison.Ordinal));
    }

    [Fact]
    public async Task StartAsync_WithAnInvalidListener_FailsTheSiloStart()
    {
        var data = SiloServer.NewDataDirectory();
        try
        {
            var settings = new Dictionary<string, string?> { ["Syslog:Listeners:0:Name"] = "open", ["Syslog:Listeners:0:Protocol"] = "Tcp" };
            var e = await Assert.ThrowsAsync<OptionsValidationException>(() => SiloServer.StartAsync(data, settings));
            Assert.Contains("Syslog:Listeners:0:AllowedSources is empty", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            SiloServer.DeleteDirectory(data);
        }
    }

    [Fact]
    public void EffectivePort_DefaultsTo514And6514()
    {
        Assert.Equal(514, new SyslogListenerOptions { Protocol = SyslogProtocol.Udp }.EffectivePort);
        Assert.Equal(514, new SyslogListenerOptions { Protocol = SyslogProtocol.Tcp }.EffectivePort);
        Assert.Equal(6514, new SyslogListenerOptions { Protocol = SyslogProtocol.Tls }.EffectivePort);
        Assert.Equal(0, new SyslogListenerOptions { Port = 0 }.EffectivePort);
    }
}
