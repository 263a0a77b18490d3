using AnomalyZT.Silo.State.Postgres;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace AnomalyZT.Silo.State;

/// <summary>Registers the state store: SQLite (embedded) or PostgreSQL (cluster).</summary>
public static class StateServiceCollectionExtensions
{
    /// <summary>Binds <see cref="SqliteStoreOptions"/> from the <c>State</c> section (validated at start) and
    /// registers a singleton <see cref="IStateStore"/> backed by SQLite. The runtime must still call
    /// <see cref="IStateStore.InitializeAsync"/> before partitions restore their grains.</summary>
    public static IServiceCollection AddSqliteStateStore(this IServiceCollection services)
    {
        services.AddOptions<SqliteStoreOptions>()
            .BindConfiguration(SqliteStoreOptions.SectionName)
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SqliteStoreOptions>, SqliteStoreOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IStateStore>(static sp => new SqliteStateStore(
            sp.GetRequiredService<IOptions<SqliteStoreOptions>>().Value,
            sp.GetRequiredService<TimeProvider>()));
        return services;
    }

    /// <summary>Binds <see cref="PostgresStoreOptions"/> from the <c>State:Postgres</c> section (validated at start,
    /// secret references resolved) and registers one singleton <see cref="PostgresStateStore"/> as
    /// <see cref="IStateStore"/>, <see cref="ILeaseStore"/> and <see cref="IClusterStore"/> (it is also the
    /// <see cref="IResponseStore"/> and <see cref="IRecordStore"/>). Call it instead of <see cref="AddSqliteStateStore"/>: registrations already made
    /// win. The runtime must still call <see cref="IStateStore.InitializeAsync"/>, which reaches the server, migrates
    /// the schema once for the whole cluster, and fails with a clear message when the server cannot be used.</summary>
    public static IServiceCollection AddPostgresStateStore(this IServiceCollection services)
    {
        services.AddOptions<PostgresStoreOptions>()
            .BindConfiguration(PostgresStoreOptions.SectionName)
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PostgresStoreOptions>, PostgresStoreOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(static sp => new PostgresStateStore(
            sp.GetRequiredService<IOptions<PostgresStoreOptions>>().Value,
            sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton<IStateStore>(static sp => sp.GetRequiredService<PostgresStateStore>());
        services.TryAddSingleton<ILeaseStore>(static sp => sp.GetRequiredService<PostgresStateStore>());
        services.TryAddSingleton<IClusterStore>(static sp => sp.GetRequiredService<PostgresStateStore>());
        return services;
    }
}
