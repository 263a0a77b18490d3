using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace AnomalyZT.Silo.State;

/// <summary>Registers the embedded state store.</summary>
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
}
