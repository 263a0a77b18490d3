using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using AnomalyZT.Silo.Response.Connectors;

namespace AnomalyZT.Tests.Response;

/// <summary>A real OpenLDAP slapd of its own: a temp dir with a slapd.conf, an mdb database under
/// <see cref="Suffix"/> loaded with slapadd, the ppolicy overlay with a default policy (lockout on), and the users of
/// <see cref="Users"/> under <c>ou=people</c>. It listens on <c>ldap://127.0.0.1:PORT/</c> (a free port) and is killed
/// on dispose. Reads go through ldap-utils (ldapsearch, ldapwhoami), not through the connector's library.</summary>
/// <remarks>Use it as an xunit class or collection fixture. Missing slapd or ldap-utils fail the test with a message
/// that says to run ./test.sh.</remarks>
public sealed class LdapServerFixture : IAsyncLifetime
{
    /// <summary>The directory's suffix.</summary>
    public const string Suffix = "dc=anomalyzt,dc=test";

    /// <summary>The manager (rootdn): may write <c>pwdAccountLockedTime</c>.</summary>
    public const string BindDn = "cn=admin," + Suffix;

    /// <summary>Where the users are.</summary>
    public const string PeopleDn = "ou=people," + Suffix;

    /// <summary>The connector's DN template for this directory.</summary>
    public const string UserDnTemplate = "uid={user}," + PeopleDn;

    /// <summary>The lock attribute of the ppolicy overlay.</summary>
    public const string LockAttribute = "pwdAccountLockedTime";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan ToolTimeout = TimeSpan.FromSeconds(20);

    private PeerProcess? _slapd;
    private string _ldapsearch = string.Empty;
    private string _ldapwhoami = string.Empty;
    private string _passwordFile = string.Empty;

    /// <summary>The seeded users (uid); the last has characters a DN must escape.</summary>
    public static IReadOnlyList<string> Users { get; } =
        ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory", "oscar", "peggy", "trent", "walter", "o'brien, jr+#1"];

    /// <summary>The loopback address it listens on.</summary>
    public string Host => "127.0.0.1";

    /// <summary>The port it listens on.</summary>
    public int Port { get; private set; }

    /// <summary>ldap://127.0.0.1:PORT/</summary>
    public string Url => FormattableString.Invariant($"ldap://{Host}:{Port}/");

    /// <summary>The manager's password (random per fixture).</summary>
    public string Password { get; } = "mgr-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(12));

    /// <summary>The temp dir with the configuration, the database and slapd's pid file.</summary>
    public string Directory { get; } = Path.Combine(Path.GetTempPath(), "anomalyzt-slapd-" + Guid.NewGuid().ToString("N"));

    /// <summary>The slapd process, for tests that stop it.</summary>
    public PeerProcess Process => _slapd ?? throw new InvalidOperationException("slapd is not started");

    /// <summary>The DN of <paramref name="user"/>.</summary>
    public static string UserDn(string user) => "uid=" + LdapConnector.EscapeRdnValue(user) + "," + PeopleDn;

    /// <summary>The password of a seeded <paramref name="user"/>.</summary>
    public static string UserPassword(string user) => "pw-" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(user)))[..16];

    /// <summary>Connector settings for this directory (bind as the manager, the password as a literal reference).</summary>
    public ConnectorOptions ConnectorOptions(TimeSpan? timeout = null) => new()
    {
        Type = ConnectorTypes.Ldap,
        Host = Host,
        Port = Port,
        BindDn = BindDn,
        BindPassword = Password,
        UserDnTemplate = UserDnTemplate,
        Timeout = timeout ?? TimeSpan.FromSeconds(10),
    };

    /// <inheritdoc />
    public async ValueTask InitializeAsync()
    {
        var ct = TestContext.Current.CancellationToken;
        var slapd = PeerProcess.FindProgram("slapd", "/usr/sbin", "/usr/local/sbin");
        var slapadd = PeerProcess.FindProgram("slapadd", "/usr/sbin", "/usr/local/sbin");
        _ldapsearch = PeerProcess.FindProgram("ldapsearch");
        _ldapwhoami = PeerProcess.FindProgram("ldapwhoami");
        var modules = new[] { "/usr/lib/ldap", "/usr/lib/x86_64-linux-gnu/ldap", "/usr/lib/aarch64-linux-gnu/ldap", "/usr/local/libexec/openldap" }
            .FirstOrDefault(d => File.Exists(Path.Combine(d, "back_mdb.so")) && File.Exists(Path.Combine(d, "ppolicy.so")))
            ?? throw new InvalidOperationException("slapd's back_mdb and ppolicy modules were not found (/usr/lib/ldap): run ./test.sh once, which installs slapd");
        var schema = new[] { "/etc/ldap/schema", "/usr/local/etc/openldap/schema" }
            .FirstOrDefault(d => File.Exists(Path.Combine(d, "inetorgperson.schema")))
            ?? throw new InvalidOperationException("the OpenLDAP schema files were not found (/etc/ldap/schema): run ./test.sh once, which installs slapd");

        System.IO.Directory.CreateDirectory(Path.Combine(Directory, "db"));
        _passwordFile = Path.Combine(Directory, "manager.pw");
        await File.WriteAllTextAsync(_passwordFile, Password, ct);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(_passwordFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        var config = Path.Combine(Directory, "slapd.conf");
        await File.WriteAllTextAsync(config, Config(schema, modules), ct);
        var seed = Path.Combine(Directory, "seed.ldif");
        await File.WriteAllTextAsync(seed, SeedLdif(), ct);

        var (code, output) = await PeerProcess.RunAsync(slapadd, ["-q", "-f", config, "-l", seed], Directory, null, ToolTimeout, ct);
        if (code != 0)
        {
            throw new InvalidOperationException($"slapadd failed with code {code}:\n{output}");
        }

        // A free port can be taken between the probe and slapd's bind: try a few.
        for (var attempt = 1; ; attempt++)
        {
            Port = PeerProcess.FreePort();
            _slapd = PeerProcess.Start(slapd, ["-d", "0", "-f", config, "-h", Url], Directory);
            try
            {
                await _slapd.WaitForPortAsync(Port, StartTimeout, ct);
                break;
            }
            catch (InvalidOperationException) when (attempt < 3 && _slapd.HasExited)
            {
                await _slapd.DisposeAsync();
            }
        }

        // Ready means it answers a bind, not only accepts connections.
        var (whoami, whoamiOutput) = await LdapToolAsync(_ldapwhoami, ["-D", BindDn, "-y", _passwordFile], ct);
        if (whoami != 0)
        {
            throw new InvalidOperationException($"slapd on {Url} listens but the manager bind failed ({whoami}):\n{whoamiOutput}\nslapd:\n{_slapd.Output}");
        }
    }

    /// <summary>The value of <see cref="LockAttribute"/> on <paramref name="user"/>, or null when absent.</summary>
    public async Task<string?> LockedTimeAsync(string user, CancellationToken ct = default)
    {
        var (code, output) = await LdapToolAsync(_ldapsearch, ["-LLL", "-o", "ldif-wrap=no", "-D", BindDn, "-y", _passwordFile, "-s", "base", "-b", UserDn(user), "(objectClass=*)", LockAttribute], ct);
        if (code != 0)
        {
            throw new InvalidOperationException($"ldapsearch for {UserDn(user)} failed with code {code}:\n{output}");
        }

        var prefix = LockAttribute + ": ";
        return output.Split('\n').Select(l => l.TrimEnd('\r')).FirstOrDefault(l => l.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))?[prefix.Length..];
    }

    /// <summary>True when <paramref name="user"/>'s entry has <see cref="LockAttribute"/>.</summary>
    public async Task<bool> IsLockedAsync(string user, CancellationToken ct = default) => await LockedTimeAsync(user, ct) is not null;

    /// <summary>True when <paramref name="user"/> can bind with its password; false when slapd answers
    /// invalidCredentials (49), which is also what ppolicy answers for a locked account.</summary>
    public async Task<bool> CanBindAsync(string user, CancellationToken ct = default)
    {
        var (code, output) = await LdapToolAsync(_ldapwhoami, ["-D", UserDn(user), "-w", UserPassword(user)], ct);
        return code switch
        {
            0 => true,
            49 => false,
            _ => throw new InvalidOperationException($"ldapwhoami as {UserDn(user)} failed with code {code}:\n{output}"),
        };
    }

    /// <summary>Kills slapd and removes the temp dir.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_slapd is not null)
        {
            await _slapd.DisposeAsync();
        }

        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    private async Task<(int Code, string Output)> LdapToolAsync(string tool, IEnumerable<string> arguments, CancellationToken ct) =>
        await PeerProcess.RunAsync(tool, ["-x", "-H", Url, .. arguments], Directory, new Dictionary<string, string> { ["LDAPNOINIT"] = "1" }, ToolTimeout, ct);

    private string Config(string schema, string modules)
    {
        var config = new StringBuilder();
        foreach (var file in new[] { "core", "cosine", "nis", "inetorgperson" })
        {
            config.Append("include ").AppendLine(Path.Combine(schema, file + ".schema"));
        }

        config.Append(CultureInfo.InvariantCulture, $"""
            modulepath {modules}
            moduleload back_mdb
            moduleload ppolicy
            pidfile {Path.Combine(Directory, "slapd.pid")}
            argsfile {Path.Combine(Directory, "slapd.args")}

            database mdb
            suffix "{Suffix}"
            rootdn "{BindDn}"
            rootpw {Password}
            directory {Path.Combine(Directory, "db")}
            maxsize 16777216

            # Password policy (Debian 12, OpenLDAP 2.5: the schema is built into the module). The rootdn may write
            # pwdAccountLockedTime; a locked account's bind fails with invalidCredentials.
            overlay ppolicy
            ppolicy_default "cn=default,ou=policies,{Suffix}"

            access to attrs=userPassword by self write by anonymous auth by * none
            access to * by self read by users read by anonymous auth

            """);
        return config.ToString().Replace("\r\n", "\n", StringComparison.Ordinal);
    }

    private static string SeedLdif()
    {
        var ldif = new StringBuilder();
        ldif.Append(CultureInfo.InvariantCulture, $"""
            dn: {Suffix}
            objectClass: dcObject
            objectClass: organization
            o: AnomalyZT test
            dc: anomalyzt

            dn: {PeopleDn}
            objectClass: organizationalUnit
            ou: people

            dn: ou=policies,{Suffix}
            objectClass: organizationalUnit
            ou: policies

            dn: cn=default,ou=policies,{Suffix}
            objectClass: device
            objectClass: pwdPolicy
            cn: default
            pwdAttribute: userPassword
            pwdLockout: TRUE


            """);
        foreach (var user in Users)
        {
            ldif.Append(CultureInfo.InvariantCulture, $"""
                dn: {UserDn(user)}
                objectClass: inetOrgPerson
                uid: {user}
                cn: {user}
                sn: Test
                userPassword: {UserPassword(user)}


                """);
        }

        return ldif.ToString().Replace("\r\n", "\n", StringComparison.Ordinal);
    }
}
