using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using AnomalyZT.Silo.Siem.Sinks;
using AnomalyZT.Tests.Response;

namespace AnomalyZT.Tests.Siem;

/// <summary>A real rsyslogd of its own (Debian's <c>rsyslog</c> and <c>rsyslog-gnutls</c>), run in the foreground as a
/// plain process with a temp dir and loopback listeners on free ports, each writing to its own file:
/// <list type="bullet">
/// <item>imtcp on <see cref="TcpPort"/> (octet-counted framing is on by default) → <see cref="TcpLog"/>;</item>
/// <item>imtcp with the gtls driver on <see cref="TlsPort"/> (server certificate for 127.0.0.1 and localhost, signed by
/// <see cref="CaFile"/>, no client certificate asked) → <see cref="TlsLog"/>;</item>
/// <item>the same on <see cref="MutualTlsPort"/> requiring a client certificate signed by <see cref="CaFile"/>
/// (<c>x509/certvalid</c>) → <see cref="MutualTlsLog"/>;</item>
/// <item>imudp on <see cref="UdpPort"/> → <see cref="UdpLog"/>.</item>
/// </list>
/// Each line is <c>%syslogseverity%|%syslogfacility%|%hostname%|%app-name%|%procid%|%msgid%|%timereported%|%structured-data%|%msg%</c>
/// with control characters kept as received (<c>parser.escapeControlCharactersOnReceive="off"</c>); rsyslog keeps a
/// UTF-8 byte order mark at the start of <c>%msg%</c>. Certificates are made per fixture with openssl.</summary>
/// <remarks>Use it as an xunit class fixture; tests sharing one tell their lines apart by a run tag in the payload. The
/// log files are never truncated while rsyslogd runs (it keeps them open). Missing rsyslogd, its gtls driver or openssl
/// fail the test with a message that says to run ./test.sh.</remarks>
public sealed class RsyslogFixture : IAsyncLifetime
{
    private const string InstallHint = "run ./test.sh once, which installs rsyslog, rsyslog-gnutls and openssl";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan ToolTimeout = TimeSpan.FromSeconds(30);
    private static readonly string[] ModuleDirectories =
        ["/usr/lib/x86_64-linux-gnu/rsyslog", "/usr/lib/aarch64-linux-gnu/rsyslog", "/usr/lib/rsyslog", "/usr/lib64/rsyslog"];

    private readonly Dictionary<string, LogReader> _readers = new(StringComparer.Ordinal);
    private string _rsyslogd = string.Empty;
    private string _config = string.Empty;
    private PeerProcess? _process;

    /// <summary>The loopback address every listener is on.</summary>
    public string Host => "127.0.0.1";

    /// <summary>Plain TCP listener.</summary>
    public int TcpPort { get; private set; }

    /// <summary>TLS listener (no client certificate asked).</summary>
    public int TlsPort { get; private set; }

    /// <summary>TLS listener that requires a client certificate signed by <see cref="CaFile"/>.</summary>
    public int MutualTlsPort { get; private set; }

    /// <summary>UDP listener.</summary>
    public int UdpPort { get; private set; }

    /// <summary>The temp dir: configuration, certificates, pid file, logs.</summary>
    public string Directory { get; } = Path.Combine(Path.GetTempPath(), "anomalyzt-rsyslog-" + Guid.NewGuid().ToString("N"));

    /// <summary>The CA that signed the server and client certificates (PEM).</summary>
    public string CaFile => Path.Combine(Directory, "ca.pem");

    /// <summary>A CA that signed nothing rsyslog presents (PEM), for the wrong-CA tests.</summary>
    public string OtherCaFile => Path.Combine(Directory, "other-ca.pem");

    /// <summary>A client certificate signed by <see cref="CaFile"/> (PEM).</summary>
    public string ClientCertFile => Path.Combine(Directory, "client.pem");

    /// <summary>The key of <see cref="ClientCertFile"/> (PEM).</summary>
    public string ClientKeyFile => Path.Combine(Directory, "client.key");

    /// <summary>What the plain TCP listener received.</summary>
    public string TcpLog => Path.Combine(Directory, "tcp.log");

    /// <summary>What the TLS listener received.</summary>
    public string TlsLog => Path.Combine(Directory, "tls.log");

    /// <summary>What the client-certificate TLS listener received.</summary>
    public string MutualTlsLog => Path.Combine(Directory, "mtls.log");

    /// <summary>What the UDP listener received.</summary>
    public string UdpLog => Path.Combine(Directory, "udp.log");

    /// <summary>The rsyslogd process now running, for messages.</summary>
    public PeerProcess Process => _process ?? throw new InvalidOperationException("rsyslogd is not running");

    /// <summary>rsyslogd's version line.</summary>
    public string Version { get; private set; } = string.Empty;

    /// <summary>Sink settings for a listener: <paramref name="transport"/> with <see cref="CaFile"/> for TLS,
    /// <paramref name="mutual"/> for the client-certificate listener (with the client certificate).</summary>
    public SyslogSinkOptions SinkOptions(SyslogTransport transport, bool mutual = false) => new()
    {
        Transport = transport,
        Host = Host,
        Port = transport switch
        {
            SyslogTransport.Udp => UdpPort,
            SyslogTransport.Tls => mutual ? MutualTlsPort : TlsPort,
            _ => TcpPort,
        },
        Hostname = "siem-test-host",
        CaFile = transport == SyslogTransport.Tls ? CaFile : string.Empty,
        ClientCertFile = mutual ? ClientCertFile : string.Empty,
        ClientKeyFile = mutual ? ClientKeyFile : string.Empty,
        Timeout = TimeSpan.FromSeconds(10),
    };

    /// <summary>The log file of a listener.</summary>
    public string Log(SyslogTransport transport, bool mutual = false) => transport switch
    {
        SyslogTransport.Udp => UdpLog,
        SyslogTransport.Tls => mutual ? MutualTlsLog : TlsLog,
        _ => TcpLog,
    };

    /// <inheritdoc />
    public async ValueTask InitializeAsync()
    {
        var ct = TestContext.Current.CancellationToken;
        _rsyslogd = FindProgram("rsyslogd", "/usr/sbin", "/usr/local/sbin");
        var openssl = FindProgram("openssl", "/usr/bin");
        var modules = ModuleDirectories.FirstOrDefault(d => File.Exists(Path.Combine(d, "imtcp.so")))
            ?? throw new InvalidOperationException($"rsyslog's modules (imtcp.so) were not found in {string.Join(", ", ModuleDirectories)}: {InstallHint}");
        if (!File.Exists(Path.Combine(modules, "lmnsd_gtls.so")))
        {
            throw new InvalidOperationException($"rsyslog's GnuTLS driver ({modules}/lmnsd_gtls.so, package rsyslog-gnutls) is missing: {InstallHint}");
        }

        System.IO.Directory.CreateDirectory(Path.Combine(Directory, "work"));
        await MakeCertificatesAsync(openssl, ct);
        var (_, version) = await PeerProcess.RunAsync(_rsyslogd, ["-v"], Directory, null, ToolTimeout, ct);
        Version = version.Split('\n')[0].Replace("compiled with:", string.Empty, StringComparison.Ordinal).Trim();

        // A free port can be taken between the probe and rsyslogd's bind: try a few.
        for (var attempt = 1; ; attempt++)
        {
            (TcpPort, TlsPort, MutualTlsPort, UdpPort) = (PeerProcess.FreePort(), PeerProcess.FreePort(), PeerProcess.FreePort(), FreeUdpPort());
            _config = Path.Combine(Directory, "rsyslog.conf");
            await File.WriteAllTextAsync(_config, Config(), ct);
            var (check, checkOutput) = await PeerProcess.RunAsync(_rsyslogd, ["-N1", "-f", _config], Directory, null, ToolTimeout, ct);
            if (check != 0)
            {
                throw new InvalidOperationException($"rsyslogd rejects its test configuration ({check}):\n{checkOutput}");
            }

            try
            {
                await StartAsync(ct);
                break;
            }
            catch (InvalidOperationException) when (attempt < 3)
            {
                await KillAsync();
            }
        }
    }

    /// <summary>Stops rsyslogd as a service manager would (SIGTERM, then waits for it to end; SIGKILL after
    /// 30 s). What it had read is written to the files before it ends.</summary>
    public async Task StopAsync(CancellationToken ct)
    {
        var process = Process;
        await PeerProcess.RunAsync("/bin/sh", ["-c", FormattableString.Invariant($"kill -TERM {process.Id}")], Directory, null, ToolTimeout, ct);
        var deadline = DateTime.UtcNow + StopTimeout;
        while (!process.HasExited && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20, ct);
        }

        StoppedOutput = process.Output;
        await KillAsync();
    }

    /// <summary>What rsyslogd printed before the last <see cref="StopAsync"/> ended it.</summary>
    public string StoppedOutput { get; private set; } = string.Empty;

    /// <summary>Starts rsyslogd again with the same configuration and ports, and waits until it listens.</summary>
    public async Task StartAgainAsync(CancellationToken ct)
    {
        if (_process is not null)
        {
            throw new InvalidOperationException("rsyslogd is still running; stop it first");
        }

        await StartAsync(ct);
    }

    /// <summary>The lines of <paramref name="file"/> so far (parsed; unparseable lines keep their raw text).</summary>
    public IReadOnlyList<SyslogLine> Lines(string file)
    {
        lock (_readers)
        {
            if (!_readers.TryGetValue(file, out var reader))
            {
                _readers[file] = reader = new LogReader(file);
            }

            return reader.Read();
        }
    }

    /// <summary>How many lines <paramref name="file"/> has so far (cheaper than <see cref="Lines"/>).</summary>
    public int LineCount(string file)
    {
        lock (_readers)
        {
            if (!_readers.TryGetValue(file, out var reader))
            {
                _readers[file] = reader = new LogReader(file);
            }

            reader.Update();
            return reader.Count;
        }
    }

    /// <summary>Waits until <paramref name="file"/> has at least <paramref name="count"/> lines whose message
    /// contains <paramref name="tag"/>, and returns those lines.</summary>
    /// <exception cref="TimeoutException">Not within <paramref name="timeout"/>; the message says how many arrived.</exception>
    public async Task<IReadOnlyList<SyslogLine>> WaitForLinesAsync(string file, string tag, int count, TimeSpan timeout, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var lines = Tagged(file, tag);
            if (lines.Count >= count)
            {
                return lines;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException(FormattableString.Invariant(
                    $"{Path.GetFileName(file)} has {lines.Count} of {count} lines tagged '{tag}' after {timeout.TotalSeconds:0} s; rsyslogd output:\n{_process?.Output}"));
            }

            await Task.Delay(50, ct);
        }
    }

    /// <summary>The lines of <paramref name="file"/> whose message contains <paramref name="tag"/>.</summary>
    public IReadOnlyList<SyslogLine> Tagged(string file, string tag) => [.. Lines(file).Where(l => l.Message.Contains(tag, StringComparison.Ordinal))];

    /// <summary>Kills rsyslogd and removes the temp dir.</summary>
    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    private async Task StartAsync(CancellationToken ct)
    {
        var pidFile = Path.Combine(Directory, "rsyslogd.pid");
        File.Delete(pidFile);
        _process = PeerProcess.Start(_rsyslogd, ["-n", "-f", _config, "-i", pidFile], Directory);
        foreach (var port in new[] { TcpPort, TlsPort, MutualTlsPort })
        {
            await _process.WaitForPortAsync(port, StartTimeout, ct);
        }

        await WaitForUdpAsync(ct);
    }

    /// <summary>UDP has no connection to wait for: send probes until one is written.</summary>
    private async Task WaitForUdpAsync(CancellationToken ct)
    {
        var tag = "probe-" + Guid.NewGuid().ToString("N");
        using var udp = new UdpClient(AddressFamily.InterNetwork);
        var probe = Encoding.ASCII.GetBytes("<14>1 - fixture probe - probe - " + tag);
        var deadline = DateTime.UtcNow + StartTimeout;
        while (Tagged(UdpLog, tag).Count == 0)
        {
            if (Process.HasExited || DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"rsyslogd did not write a UDP probe to {UdpLog}; output:\n{Process.Output}");
            }

            await udp.SendAsync(probe, new IPEndPoint(IPAddress.Loopback, UdpPort), ct);
            await Task.Delay(100, ct);
        }
    }

    private async Task KillAsync()
    {
        if (_process is not null)
        {
            await _process.DisposeAsync();
            _process = null;
        }
    }

    private static int FreeUdpPort()
    {
        using var udp = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)udp.Client.LocalEndPoint!).Port;
    }

    private static string FindProgram(string name, params string[] directories)
    {
        try
        {
            return PeerProcess.FindProgram(name, directories);
        }
        catch (InvalidOperationException)
        {
            throw new InvalidOperationException($"'{name}' was not found on PATH or in {string.Join(", ", directories)}: {InstallHint}");
        }
    }

    private async Task MakeCertificatesAsync(string openssl, CancellationToken ct)
    {
        async Task Run(params string[] arguments)
        {
            var (code, output) = await PeerProcess.RunAsync(openssl, arguments, Directory, null, ToolTimeout, ct);
            if (code != 0)
            {
                throw new InvalidOperationException($"openssl {string.Join(' ', arguments)} failed with code {code}:\n{output}");
            }
        }

        const string Days = "2";
        var ec = new[] { "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes" };
        foreach (var ca in new[] { "ca", "other-ca" })
        {
            await Run(["req", "-x509", .. ec, "-keyout", ca + ".key", "-out", ca + ".pem", "-days", Days, "-subj", "/CN=AnomalyZT test " + ca,
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"]);
        }

        await File.WriteAllTextAsync(Path.Combine(Directory, "server.ext"),
            "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n", ct);
        await File.WriteAllTextAsync(Path.Combine(Directory, "client.ext"),
            "extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n", ct);
        foreach (var (leaf, cn) in new[] { ("server", "localhost"), ("client", "anomalyzt-sink") })
        {
            await Run(["req", .. ec, "-keyout", leaf + ".key", "-out", leaf + ".csr", "-subj", "/CN=" + cn]);
            await Run(["x509", "-req", "-in", leaf + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", leaf + ".pem",
                "-days", Days, "-extfile", leaf + ".ext"]);
        }
    }

    private string Config()
    {
        string Q(string path) => path.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);
        var config = new StringBuilder();
        config.Append(CultureInfo.InvariantCulture, $$"""
            # AnomalyZT test receiver: one rsyslogd, four loopback listeners, one file each.
            global(
              workDirectory="{{Q(Path.Combine(Directory, "work"))}}"
              maxMessageSize="256k"
              parser.escapeControlCharactersOnReceive="off"
              defaultNetstreamDriverCAFile="{{Q(CaFile)}}"
              defaultNetstreamDriverCertFile="{{Q(Path.Combine(Directory, "server.pem"))}}"
              defaultNetstreamDriverKeyFile="{{Q(Path.Combine(Directory, "server.key"))}}"
            )
            module(load="imtcp")
            module(load="imudp")
            template(name="raw" type="string"
              string="%syslogseverity%|%syslogfacility%|%hostname%|%app-name%|%procid%|%msgid%|%timereported:::date-rfc3339%|%structured-data%|%msg%\n")
            input(type="imtcp" address="127.0.0.1" port="{{TcpPort}}" ruleset="tcp")
            input(type="imtcp" address="127.0.0.1" port="{{TlsPort}}" ruleset="tls"
              streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon")
            input(type="imtcp" address="127.0.0.1" port="{{MutualTlsPort}}" ruleset="mtls"
              streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="x509/certvalid")
            input(type="imudp" address="127.0.0.1" port="{{UdpPort}}" ruleset="udp")
            ruleset(name="tcp") { action(type="omfile" file="{{Q(TcpLog)}}" template="raw") }
            ruleset(name="tls") { action(type="omfile" file="{{Q(TlsLog)}}" template="raw") }
            ruleset(name="mtls") { action(type="omfile" file="{{Q(MutualTlsLog)}}" template="raw") }
            ruleset(name="udp") { action(type="omfile" file="{{Q(UdpLog)}}" template="raw") }

            """);
        return config.ToString().Replace("\r\n", "\n", StringComparison.Ordinal);
    }

    /// <summary>Reads a log file incrementally (rsyslogd only appends).</summary>
    private sealed class LogReader(string path)
    {
        private readonly List<SyslogLine> _lines = [];
        private readonly List<byte> _partial = [];
        private long _offset;

        public int Count => _lines.Count;

        public IReadOnlyList<SyslogLine> Read()
        {
            Update();
            return [.. _lines];
        }

        public void Update()
        {
            if (!File.Exists(path))
            {
                return;
            }

            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            stream.Seek(_offset, SeekOrigin.Begin);
            var buffer = new byte[64 * 1024];
            int n;
            while ((n = stream.Read(buffer)) > 0)
            {
                _offset += n;
                var chunk = buffer.AsSpan(0, n);
                for (var end = chunk.IndexOf((byte)'\n'); end >= 0; end = chunk.IndexOf((byte)'\n'))
                {
                    _partial.AddRange(chunk[..end]);
                    _lines.Add(SyslogLine.Parse([.. _partial]));
                    _partial.Clear();
                    chunk = chunk[(end + 1)..];
                }

                _partial.AddRange(chunk);
            }
        }
    }
}

/// <summary>One line rsyslogd wrote with the fixture's template.</summary>
/// <param name="Severity">%syslogseverity%, or -1 when the line does not parse.</param>
/// <param name="Facility">%syslogfacility%.</param>
/// <param name="Hostname">%hostname%.</param>
/// <param name="AppName">%app-name%.</param>
/// <param name="ProcId">%procid%.</param>
/// <param name="MsgId">%msgid%.</param>
/// <param name="Timestamp">%timereported:::date-rfc3339%.</param>
/// <param name="StructuredData">%structured-data%.</param>
/// <param name="RawMessage">%msg% as bytes (byte order mark included); the whole line when it does not parse.</param>
public sealed record SyslogLine(int Severity, int Facility, string Hostname, string AppName, string ProcId, string MsgId, string Timestamp,
    string StructuredData, byte[] RawMessage)
{
    /// <summary>The UTF-8 byte order mark.</summary>
    public static readonly byte[] Bom = [0xEF, 0xBB, 0xBF];

    /// <summary>%msg% as text (invalid UTF-8 replaced).</summary>
    public string Message => Encoding.UTF8.GetString(RawMessage);

    /// <summary>True when %msg% starts with a byte order mark.</summary>
    public bool HasBom => RawMessage.AsSpan().StartsWith(Bom);

    /// <summary>%msg% without a leading byte order mark.</summary>
    public byte[] Payload => HasBom ? RawMessage[Bom.Length..] : RawMessage;

    /// <summary>Parses one line (without its LF).</summary>
    public static SyslogLine Parse(byte[] line)
    {
        var fields = new List<string>(8);
        var start = 0;
        for (var i = 0; i < line.Length && fields.Count < 8; i++)
        {
            if (line[i] == (byte)'|')
            {
                fields.Add(Encoding.UTF8.GetString(line, start, i - start));
                start = i + 1;
            }
        }

        return fields.Count == 8 && int.TryParse(fields[0], CultureInfo.InvariantCulture, out var severity) && int.TryParse(fields[1], CultureInfo.InvariantCulture, out var facility)
            ? new SyslogLine(severity, facility, fields[2], fields[3], fields[4], fields[5], fields[6], fields[7], line[start..])
            : new SyslogLine(-1, -1, string.Empty, string.Empty, string.Empty, string.Empty, string.Empty, string.Empty, line);
    }
}
