using AnomalyZT.Silo.State;

namespace AnomalyZT.Tests.SiemCore;

/// <summary>A SQLite state store in a temporary folder, opened before each test and deleted after it.</summary>
public abstract class TempStore : IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "anomalyzt-siem-" + Guid.NewGuid().ToString("N"));

    /// <summary>The store.</summary>
    protected SqliteStateStore Store { get; private set; } = null!;

    /// <summary>The folder the store lives in.</summary>
    protected string DirectoryPath => _directory;

    /// <summary>The test's cancellation token.</summary>
    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <inheritdoc />
    public async ValueTask InitializeAsync()
    {
        Store = new SqliteStateStore(new SqliteStoreOptions { DataDirectory = _directory }, TimeProvider.System);
        await Store.InitializeAsync(Ct);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await Store.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
        GC.SuppressFinalize(this);
    }
}
