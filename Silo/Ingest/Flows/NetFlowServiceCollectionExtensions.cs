using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace AnomalyZT.Silo.Receivers.Flows;

/// <summary>Registers the NetFlow v5 / v9 / IPFIX collector.</summary>
public static class NetFlowServiceCollectionExtensions
{
    /// <summary>Adds <see cref="NetFlowOptions"/> (section <c>NetFlow</c>, validated at start) and the collector as a
    /// hosted service (idle unless <see cref="NetFlowOptions.Enabled"/>). Needs <see cref="ReceiverDispatcher"/>,
    /// <see cref="ShipperRateLimiter"/> and <see cref="TimeProvider"/> registered.</summary>
    public static IServiceCollection AddNetFlowCollector(this IServiceCollection services)
    {
        services.AddOptions<NetFlowOptions>().BindConfiguration(NetFlowOptions.SectionName).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<NetFlowOptions>, NetFlowOptionsValidator>());
        services.AddSingleton(sp => new NetFlowCollector(
            sp.GetRequiredService<IOptions<NetFlowOptions>>(),
            sp.GetRequiredService<ReceiverDispatcher>(),
            sp.GetRequiredService<ShipperRateLimiter>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<NetFlowCollector>>(),
            sp.GetService<System.Diagnostics.Metrics.IMeterFactory>()));
        services.AddHostedService(sp => sp.GetRequiredService<NetFlowCollector>());
        return services;
    }
}
