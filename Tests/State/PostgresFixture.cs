using System.Security.Cryptography;
using System.Text.RegularExpressions;
using AnomalyZT.Silo.State.Postgres;
using AnomalyZT.Tests.Response;
using Npgsql;

namespace AnomalyZT.Tests.State;

/// <summary>The test classes that share one PostgreSQL server (they run one after another).</summary>
[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>
{
    /// <summary>Collection name.</summary>
    public const string Name = "postgres";
}

/// <summary>A PostgreSQL server of the tests' own: Debian's binaries run as a plain process on 127.0.0.1 and a free
/// port, with a temp data directory, a role and a database with a random password, killed and deleted on dispose.
/// Never the system service. As root it runs as the <c>postgres</c> OS user (PostgreSQL refuses root).</summary>
/// <remarks>The database is created with an ICU en-US default collation, under which <c>'B' &gt; 'a'</c>, so a store
/// that forgot <c>COLLATE "C"</c> would sort differently from SQLite and the tests would see it. Tests isolate
/// themselves by schema: <see cref="NewSchema"/>.</remarks>
public sealed partial class PostgresFixture : IAsyncLifetime
{
    /// <summary>What to do when the binaries are missing.</summary>
    public const string InstallHint = "run ./test.sh once, which installs PostgreSQL from Debian (apt-get install postgresql)";

    private const string ServerUser = "postgres";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly string _root = Path.Combine(Path.GetTempPath(), "anomalyzt-pg-" + Guid.NewGuid().ToString("N")[..12]);
    private PeerProcess? _server;
    private string _binDirectory = string.Empty;
    private bool _asServerUser;

    /// <summary>The loopback port the server listens on.</summary>
    public int Port { get; private set; }

    /// <summary>The test role's password (random per fixture).</summary>
    public string Password { get; } = RandomToken();

    /// <summary>The test role (owner of <see cref="Database"/>).</summary>
    public string Role { get; } = "azt_" + RandomToken()[..8].ToLowerInvariant();

    /// <summary>The test database.</summary>
    public string Database { get; } = "azt_" + RandomToken()[..8].ToLowerInvariant();

    /// <summary>Connection string of the test role to the test database (pool size and search path come from the
    /// store options).</summary>
    public string ConnectionString => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = Port,
        Database = Database,
        Username = Role,
        Password = Password,
        Timeout = 15,
    }.ConnectionString;

    /// <summary>The server's major version, e.g. 15.</summary>
    public int Version { get; private set; }

    private string SuperPassword { get; } = RandomToken();

    /// <summary>Store options for a fresh schema of the test's own.</summary>
    public PostgresStoreOptions Options(string? schema = null) => new()
    {
        ConnectionString = ConnectionString,
        Schema = schema ?? NewSchema(),
        MaxPoolSize = 10,
    };

    /// <summary>A schema name no other test uses.</summary>
    public static string NewSchema() => "t_" + Guid.NewGuid().ToString("N")[..20];

    /// <summary>Runs SQL as the test role in the test database (to look at tables or inject failures).</summary>
    public async Task ExecuteAsync(string sql, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(ConnectionString + ";Pooling=false");
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>The first column of every row of a query, as text.</summary>
    public async Task<List<string>> StringsAsync(string sql, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(ConnectionString + ";Pooling=false");
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync(ct);
        var values = new List<string>();
        while (await reader.ReadAsync(ct))
        {
            values.Add(Convert.ToString(reader.GetValue(0), System.Globalization.CultureInfo.InvariantCulture)!);
        }

        return values;
    }

    /// <inheritdoc />
    public async ValueTask InitializeAsync()
    {
        var ct = TestContext.Current.CancellationToken;
        _binDirectory = FindBinDirectory();
        Version = int.Parse(Path.GetFileName(Path.GetDirectoryName(_binDirectory))!, System.Globalization.CultureInfo.InvariantCulture);
        _asServerUser = Environment.IsPrivilegedProcess;
        Directory.CreateDirectory(_root);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(_root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        var passwordFile = Path.Combine(_root, "superuser.pw");
        await File.WriteAllTextAsync(passwordFile, SuperPassword + "\n", ct);
        if (_asServerUser)
        {
            // PostgreSQL will not run as root: hand the folder to the postgres OS user and run the binaries as it.
            var (code, output) = await PeerProcess.RunAsync("chown", ["-R", $"{ServerUser}:{ServerUser}", _root], _root, null, TimeSpan.FromSeconds(10), ct);
            if (code != 0)
            {
                throw new InvalidOperationException($"chown of {_root} to the '{ServerUser}' OS user failed ({output.Trim()}): {InstallHint}");
            }
        }

        var dataDirectory = Path.Combine(_root, "data");
        var (initCode, initOutput) = await PeerProcess.RunAsync(
            Program(out var initPrefix),
            [.. initPrefix, Path.Combine(_binDirectory, "initdb"), "-D", dataDirectory, "-U", "postgres", "--pwfile", passwordFile,
             "--auth", "scram-sha-256", "--encoding", "UTF8", "--locale", "C.UTF-8", "--no-sync", "--no-instructions"],
            _root, null, TimeSpan.FromSeconds(120), ct);
        File.Delete(passwordFile);
        if (initCode != 0)
        {
            throw new InvalidOperationException($"initdb failed with code {initCode}:\n{initOutput}");
        }

        Port = PeerProcess.FreePort();
        var port = Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        _server = PeerProcess.Start(
            Program(out var prefix),
            [.. prefix, Path.Combine(_binDirectory, "postgres"), "-D", dataDirectory, "-p", port, "-k", _root,
             "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "full_page_writes=off", "-c", "max_connections=200",
             "-c", "shared_buffers=32MB"],
            _root);
        await _server.WaitForLineAsync(ReadyLine(), StartTimeout, ct);
        await _server.WaitForPortAsync(Port, StartTimeout, ct);
        await CreateRoleAndDatabaseAsync(ct);
    }

    /// <summary>Stops the server (fast shutdown, then kill) and deletes its folder.</summary>
    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        if (_server is { } server)
        {
            if (!server.HasExited)
            {
                // SIGINT is PostgreSQL's fast shutdown: it ends the backends and removes its shared memory.
                await PeerProcess.RunAsync("kill", ["-INT", server.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)], _root, null,
                    TimeSpan.FromSeconds(5), CancellationToken.None);
                var deadline = DateTime.UtcNow.AddSeconds(15);
                while (!server.HasExited && DateTime.UtcNow < deadline)
                {
                    await Task.Delay(50);
                }
            }

            await server.DisposeAsync();
        }

        try
        {
            if (Directory.Exists(_root))
            {
                Directory.Delete(_root, recursive: true);
            }
        }
        catch (IOException)
        {
            // best effort
        }
    }

    private async Task CreateRoleAndDatabaseAsync(CancellationToken ct)
    {
        var admin = new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = Port,
            Database = "postgres",
            Username = "postgres",
            Password = SuperPassword,
            Pooling = false,
        }.ConnectionString;
        await using var connection = new NpgsqlConnection(admin);
        await connection.OpenAsync(ct);
        // Role and database names are generated here ([a-z0-9_]); the password is hex. Neither needs more quoting.
        await using (var role = new NpgsqlCommand($"CREATE ROLE {Role} LOGIN PASSWORD '{Password}';", connection))
        {
            await role.ExecuteNonQueryAsync(ct);
        }

        try
        {
            await using var database = new NpgsqlCommand(
                $"CREATE DATABASE {Database} OWNER {Role} TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C.UTF-8' LOCALE_PROVIDER icu ICU_LOCALE 'en-US';",
                connection);
            await database.ExecuteNonQueryAsync(ct);
        }
        catch (PostgresException)
        {
            // A server built without ICU: the C.UTF-8 default still works, only the collation check is weaker.
            await using var database = new NpgsqlCommand($"CREATE DATABASE {Database} OWNER {Role} TEMPLATE template0 ENCODING 'UTF8';", connection);
            await database.ExecuteNonQueryAsync(ct);
        }
    }

    /// <summary>The program to start and the arguments before the PostgreSQL binary: setpriv as root (it execs, so the
    /// process started is the server itself and signals reach it), nothing otherwise.</summary>
    private string Program(out string[] prefix)
    {
        if (!_asServerUser)
        {
            prefix = [];
            return "/usr/bin/env";
        }

        prefix = [$"--reuid={ServerUser}", $"--regid={ServerUser}", "--init-groups", "--"];
        return PeerProcess.FindProgram("setpriv", "/usr/bin", "/bin");
    }

    private static string FindBinDirectory()
    {
        const string Root = "/usr/lib/postgresql";
        var preferred = Path.Combine(Root, "15", "bin");
        if (File.Exists(Path.Combine(preferred, "postgres")) && File.Exists(Path.Combine(preferred, "initdb")))
        {
            return preferred;
        }

        var any = Directory.Exists(Root)
            ? Directory.GetDirectories(Root)
                .Select(d => Path.Combine(d, "bin"))
                .Where(d => File.Exists(Path.Combine(d, "postgres")) && File.Exists(Path.Combine(d, "initdb")))
                .OrderByDescending(d => d, StringComparer.Ordinal)
                .FirstOrDefault()
            : null;
        return any ?? throw new InvalidOperationException(
            $"The PostgreSQL server binaries (postgres, initdb) were not found in {preferred}: {InstallHint}.");
    }

    private static string RandomToken() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    [GeneratedRegex("database system is ready to accept connections")]
    private static partial Regex ReadyLine();
}
