using AnomalyZT.Grains.Config;
using AnomalyZT.Ingest;
using AnomalyZT.Silo.Api;
using AnomalyZT.Silo.Response;
using AnomalyZT.Silo.Response.Connectors;
using AnomalyZT.Silo.Runtime;
using AnomalyZT.Silo.Security;
using AnomalyZT.Silo.State;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace AnomalyZT.Silo.Hosting;

/// <summary>The composition root: the only place that reads <see cref="IConfiguration"/>.</summary>
public static partial class SiloHost
{
    /// <summary>Builds the silo web application. <paramref name="configure"/> lets tests and tools override settings.</summary>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        // appsettings.json lives next to the binary; relative data paths stay relative to the working directory.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddEnvironmentVariables("ANOMALYZT_");
        // The slim builder leaves out HTTPS endpoints from configuration; shippers should be able to use TLS
        // (Kestrel:Endpoints:{name}:Url https://…, Certificate:Path/KeyPath, optionally ClientCertificateMode).
        builder.WebHost.UseKestrelHttpsConfiguration();
        configure?.Invoke(builder);
        var services = builder.Services;
        var config = builder.Configuration;

        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, Serialization.AnomalyJsonContext.Default));
        services.AddSingleton(TimeProvider.System);
        var cluster = string.Equals(config["Runtime:Mode"], "Cluster", StringComparison.OrdinalIgnoreCase);
        if (cluster)
        {
            // Registered first: the PostgreSQL store wins over the SQLite one (whose options still name the data folder
            // for alerts.jsonl and generated keys).
            services.AddPostgresStateStore();
        }

        services.AddSqliteStateStore();
        services.AddOptions<EmbeddedRuntimeOptions>().BindConfiguration(EmbeddedRuntimeOptions.SectionName)
            .PostConfigure(o =>
            {
                if (!string.IsNullOrWhiteSpace(o.InventoryFile) && File.Exists(o.InventoryFile))
                {
                    o.Inventory.AddRange(Cli.CliCommands.LoadInventory(o.InventoryFile));
                }
            })
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<EmbeddedRuntimeOptions>, EmbeddedRuntimeOptionsValidator>();
        services.AddOptions<IngestOptions>().BindConfiguration(IngestOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<IngestOptions>>(new SelfValidator<IngestOptions>(o => o.Validate()));
        services.AddOptions<AuthOptions>().BindConfiguration(AuthOptions.SectionName);
        services.AddOptions<ObservabilityOptions>().BindConfiguration(ObservabilityOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ObservabilityOptions>, ObservabilityOptionsValidator>();

        services.AddSingleton(sp => new LineDecoder(sp.GetRequiredService<IOptions<IngestOptions>>().Value));
        services.AddSingleton(sp => new RuntimeMetrics(sp.GetService<System.Diagnostics.Metrics.IMeterFactory>()));
        services.AddSingleton(sp => LoadDetection(sp.GetRequiredService<IOptions<EmbeddedRuntimeOptions>>().Value));
        services.AddSingleton(sp => new AlertFileWriter(Path.Combine(sp.GetRequiredService<IOptions<SqliteStoreOptions>>().Value.DataDirectory, "alerts.jsonl")));
        AddResponse(services);
        if (cluster)
        {
            services.AddSingleton(new Cluster.Leadership());
            AddCluster(services);
        }
        else
        {
            services.AddSingleton(Cluster.Leadership.Always());
        }

        services.TryAddSingleton<IGrainRuntime>(sp =>
        {
            var alerts = sp.GetRequiredService<AlertFileWriter>();
            var responder = sp.GetRequiredService<Responder>();
            var siem = sp.GetRequiredService<Siem.SiemService>();
            return new EmbeddedRuntime(
                sp.GetRequiredService<IOptions<EmbeddedRuntimeOptions>>().Value,
                sp.GetRequiredService<DetectionConfig>(),
                sp.GetRequiredService<IStateStore>(),
                async findings =>
                {
                    await alerts.WriteAsync(findings).ConfigureAwait(false);
                    await responder.OnFindingsCommittedAsync(findings).ConfigureAwait(false);
                    siem.Wake();
                },
                sp.GetRequiredService<RuntimeMetrics>(),
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILogger<EmbeddedRuntime>>());
        });
        services.AddHostedService<RuntimeHostedService>();
        AddReceivers(services);
        Scrape.DcgmScrapeServiceCollectionExtensions.AddDcgmScrape(services);
        services.AddHostedService<ResponseHostedService>();
        services.AddOptions<Siem.SiemOptions>().BindConfiguration(Siem.SiemOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<Siem.SiemOptions>, SiemOptionsValidator>();
        services.AddSingleton(sp => new Siem.SiemMetrics(sp.GetService<System.Diagnostics.Metrics.IMeterFactory>()));
        services.AddSingleton<Siem.SiemService>();
        services.AddHostedService(sp => sp.GetRequiredService<Siem.SiemService>());
        services.AddSingleton<DetectionConfigWatcher>();
        services.AddHostedService(sp => sp.GetRequiredService<DetectionConfigWatcher>());

        services.AddSingleton(sp => CreateKeyRegistry(sp));
        services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(Policies.Ingest, p => p.RequireRole(Roles.Shipper, Roles.Admin))
            .AddPolicy(Policies.Read, p => p.RequireRole(Roles.Viewer, Roles.Responder, Roles.Admin))
            .AddPolicy(Policies.Respond, p => p.RequireRole(Roles.Responder, Roles.Admin))
            .SetFallbackPolicy(new Microsoft.AspNetCore.Authorization.AuthorizationPolicyBuilder().RequireRole(Roles.Admin).Build());

        var ingestLimits = config.GetSection(IngestOptions.SectionName).Get<IngestOptions>() ?? new IngestOptions();
        services.AddRateLimiter(o =>
        {
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.OnRejected = static (context, _) =>
            {
                context.HttpContext.Response.Headers.RetryAfter = "1";
                return ValueTask.CompletedTask;
            };
            o.AddConcurrencyLimiter(IngestEndpoints.ConcurrencyPolicy, c =>
            {
                c.PermitLimit = Math.Clamp(ingestLimits.MaxConcurrentBodies, 1, 1024);
                c.QueueLimit = c.PermitLimit;
                c.QueueProcessingOrder = System.Threading.RateLimiting.QueueProcessingOrder.OldestFirst;
            });
        });

        AddTelemetry(services, config.GetSection(ObservabilityOptions.SectionName).Get<ObservabilityOptions>() ?? new());

        var app = builder.Build();

        // Resolve keys now, not on the first request: bad key config fails the start, and generated keys exist
        // (and the log says where) before anyone needs them.
        _ = app.Services.GetRequiredService<ApiKeyRegistry>();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();
        app.MapIngest();
        app.MapDropIns();
        app.MapShipperHandshakes();
        app.MapOtlp();
        app.MapQueries();
        app.MapResponse();
        app.MapSiem();
        return app;
    }

    /// <summary>What every receiver shares: counts by shipper, per-shipper rate limits, and the dispatcher socket
    /// receivers hand their batches to.</summary>
    private static void AddReceivers(IServiceCollection services)
    {
        services.AddSingleton(sp => new Receivers.ReceiverStats(sp.GetService<System.Diagnostics.Metrics.IMeterFactory>()));
        services.AddOptions<Receivers.RateLimitOptions>().BindConfiguration(Receivers.RateLimitOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<Receivers.RateLimitOptions>>(new SelfValidator<Receivers.RateLimitOptions>(o => o.Validate()));
        services.AddSingleton(sp => new Receivers.ShipperRateLimiter(
            sp.GetRequiredService<IOptions<Receivers.RateLimitOptions>>().Value, sp.GetRequiredService<TimeProvider>()));
        services.AddOptions<Receivers.OtlpMappingOptions>().BindConfiguration(Receivers.OtlpMappingOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<Receivers.OtlpMappingOptions>>(new SelfValidator<Receivers.OtlpMappingOptions>(o => o.Validate()));
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<Receivers.OtlpMappingOptions>>().Value.ToMapping());
        services.AddSingleton(sp => new Receivers.ShipperGate(sp.GetRequiredService<Receivers.ReceiverStats>(), sp.GetRequiredService<Receivers.ShipperRateLimiter>()));
        services.AddSingleton(sp => new Receivers.ReceiverDispatcher(
            sp.GetRequiredService<IGrainRuntime>(), sp.GetRequiredService<Receivers.ReceiverStats>(), sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<Receivers.ReceiverDispatcher>>()));
        Receivers.Syslog.SyslogReceiverServiceCollectionExtensions.AddSyslogReceivers(services);
        Receivers.Flows.NetFlowServiceCollectionExtensions.AddNetFlowCollector(services);
    }

    private static void AddCluster(IServiceCollection services)
    {
        services.AddOptions<Cluster.ClusterOptions>().BindConfiguration(Cluster.ClusterOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<Cluster.ClusterOptions>>(new SelfValidator<Cluster.ClusterOptions>(o => o.Validate()));
        services.AddOptions<Cluster.Bus.RabbitBusOptions>().BindConfiguration(Cluster.Bus.RabbitBusOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<Cluster.Bus.RabbitBusOptions>, Cluster.Bus.RabbitBusOptionsValidator>();
        services.AddSingleton(sp => new Cluster.Bus.PartitionBus(
            sp.GetRequiredService<IOptions<Cluster.Bus.RabbitBusOptions>>().Value,
            sp.GetRequiredService<ILogger<Cluster.Bus.PartitionBus>>(),
            sp.GetService<System.Diagnostics.Metrics.IMeterFactory>(),
            sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<IGrainRuntime>(sp =>
        {
            var alerts = sp.GetRequiredService<AlertFileWriter>();
            var responder = sp.GetRequiredService<Responder>();
            var siem = sp.GetRequiredService<Siem.SiemService>();
            var store = sp.GetRequiredService<IStateStore>();
            return new Cluster.ClusterRuntime(
                sp.GetRequiredService<IOptions<EmbeddedRuntimeOptions>>().Value,
                sp.GetRequiredService<IOptions<Cluster.ClusterOptions>>().Value,
                sp.GetRequiredService<DetectionConfig>(),
                store,
                (IClusterStore)store,
                (IRecordStore)store,
                sp.GetRequiredService<Cluster.Bus.PartitionBus>(),
                async findings =>
                {
                    await alerts.WriteAsync(findings).ConfigureAwait(false);
                    await responder.OnFindingsCommittedAsync(findings).ConfigureAwait(false);
                    siem.Wake();
                },
                sp.GetRequiredService<RuntimeMetrics>(),
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILogger<Cluster.ClusterRuntime>>(),
                sp.GetRequiredService<Cluster.Leadership>());
        });
    }

    private static void AddResponse(IServiceCollection services)
    {
        services.AddOptions<ResponseOptions>().BindConfiguration(ResponseOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ResponseOptions>, ResponseOptionsValidator>();
        services.AddSingleton(sp => new TokenVault(sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => new ResponseMetrics(sp.GetService<System.Diagnostics.Metrics.IMeterFactory>()));
        services.AddSingleton<IResponseStore>(sp => (IResponseStore)sp.GetRequiredService<IStateStore>());
        services.AddSingleton(_ => new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
        {
            // Each connector bounds its own calls (Response:Connectors:{name}:Timeout).
            Timeout = Timeout.InfiniteTimeSpan,
        });
        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<ResponseOptions>>().Value;
            var http = sp.GetRequiredService<HttpClient>();
            var time = sp.GetRequiredService<TimeProvider>();
            var logs = sp.GetRequiredService<ILoggerFactory>();
            var configured = options.Connectors.Count > 0
                ? options.Connectors
                : new Dictionary<string, ConnectorOptions>(StringComparer.Ordinal) { ["log"] = new() { Type = ConnectorTypes.Log } };
            return new ConnectorRegistry(configured.Select(c => ConnectorFactory.Create(c.Key, c.Value, http, time, logs)));
        });
        services.AddSingleton(sp => new ResponsePolicySource(sp.GetRequiredService<DetectionConfig>().Response, sp.GetRequiredService<ConnectorRegistry>()));
        services.AddSingleton(sp => new Responder(
            sp.GetRequiredService<IResponseStore>(),
            sp.GetRequiredService<ResponsePolicySource>(),
            sp.GetRequiredService<ConnectorRegistry>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ResponseMetrics>(),
            sp.GetRequiredService<ILogger<Responder>>(),
            sp.GetRequiredService<TokenVault>()));
        services.AddSingleton(sp => new ActionExecutor(
            sp.GetRequiredService<IResponseStore>(),
            sp.GetRequiredService<ConnectorRegistry>(),
            sp.GetRequiredService<IOptions<ResponseOptions>>().Value.Executor,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ResponseMetrics>(),
            sp.GetRequiredService<ILogger<ActionExecutor>>()));
        services.AddSingleton(sp => new ActionCommands(
            sp.GetRequiredService<IResponseStore>(), sp.GetRequiredService<ActionExecutor>(), sp.GetRequiredService<TimeProvider>()));
    }

    private static DetectionConfig LoadDetection(EmbeddedRuntimeOptions options) =>
        string.IsNullOrWhiteSpace(options.DetectorsFile) ? DetectionConfig.Default : DetectionConfigLoader.Load(options.DetectorsFile);

    private static ApiKeyRegistry CreateKeyRegistry(IServiceProvider sp)
    {
        var auth = sp.GetRequiredService<IOptions<AuthOptions>>().Value;
        if (auth.Keys.Count > 0)
        {
            return new ApiKeyRegistry(auth.Keys);
        }

        if (string.Equals(sp.GetRequiredService<IOptions<EmbeddedRuntimeOptions>>().Value.Mode, "Cluster", StringComparison.OrdinalIgnoreCase))
        {
            // Generated keys live in one silo's data folder; the other silos would not know them.
            throw new InvalidOperationException("Auth:Keys is empty; in cluster mode every silo must be given the same Auth:Keys (SHA-256 hashes), since keys generated by one silo are unknown to the others");
        }

        var dataDirectory = sp.GetRequiredService<IOptions<SqliteStoreOptions>>().Value.DataDirectory;
        var (keys, created) = InitialKeys.LoadOrCreate(dataDirectory);
        var logger = sp.GetRequiredService<ILoggerFactory>().CreateLogger("AnomalyZT.Silo.Security");
        if (created is not null)
        {
            var createdPath = Path.GetFullPath(created);
            LogInitialKeys(logger, createdPath);
        }
        else
        {
            var keysPath = Path.GetFullPath(Path.Combine(dataDirectory, InitialKeys.KeysFile));
            LogStoredKeys(logger, keys.Count, keysPath);
        }

        return new ApiKeyRegistry(keys);
    }

    private static void AddTelemetry(IServiceCollection services, ObservabilityOptions options)
    {
        // A malformed endpoint is refused at start by ObservabilityOptionsValidator, with the key named.
        if (string.IsNullOrWhiteSpace(options.OtlpEndpoint) || !Uri.TryCreate(options.OtlpEndpoint, UriKind.Absolute, out var endpoint))
        {
            return;
        }

        var protocol = options.OtlpProtocol == "http/protobuf" ? OtlpExportProtocol.HttpProtobuf : OtlpExportProtocol.Grpc;
        var meters = Sdk.CreateMeterProviderBuilder()
            .AddMeter(RuntimeMetrics.Name)
            .AddOtlpExporter(o =>
            {
                o.Endpoint = endpoint;
                o.Protocol = protocol;
            })
            .Build();
        var traces = Sdk.CreateTracerProviderBuilder()
            .AddSource(RuntimeMetrics.Name)
            .AddOtlpExporter(o =>
            {
                o.Endpoint = endpoint;
                o.Protocol = protocol;
            })
            .Build();
        services.AddSingleton(meters);
        services.AddSingleton(traces);
    }

    [LoggerMessage(EventId = 1002, Level = LogLevel.Warning,
        Message = "No API keys configured: generated admin, shipper, viewer and responder keys; read them once from {Path} (owner-only), then configure Auth:Keys")]
    private static partial void LogInitialKeys(ILogger logger, string path);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Information, Message = "Using {Count} generated API keys from {Path}")]
    private static partial void LogStoredKeys(ILogger logger, int count, string path);
}

internal sealed class EmbeddedRuntimeOptionsValidator : IValidateOptions<EmbeddedRuntimeOptions>
{
    public ValidateOptionsResult Validate(string? name, EmbeddedRuntimeOptions o)
    {
        var errors = new List<string>();
        if (!string.Equals(o.Mode, "Embedded", StringComparison.OrdinalIgnoreCase) && !string.Equals(o.Mode, "Cluster", StringComparison.OrdinalIgnoreCase))
        {
            errors.Add($"Runtime:Mode is '{o.Mode}'; allowed: Embedded, Cluster");
        }

        if (o.Partitions is < 1 or > 4096)
        {
            errors.Add($"Runtime:Partitions is {o.Partitions}; Runtime:Partitions must be from 1 to 4096");
        }

        if (o.QueueCapacity is < 16 or > 10_000_000)
        {
            errors.Add($"Runtime:QueueCapacity is {o.QueueCapacity}; Runtime:QueueCapacity must be from 16 to 10000000");
        }

        if (o.MaxGrainsPerPartition is < 0 or > 10_000_000)
        {
            errors.Add($"Runtime:MaxGrainsPerPartition is {o.MaxGrainsPerPartition}; Runtime:MaxGrainsPerPartition must be from 0 (no limit) to 10000000");
        }

        if (o.CheckpointInterval < TimeSpan.FromMilliseconds(100))
        {
            errors.Add($"Runtime:CheckpointInterval is {o.CheckpointInterval}; Runtime:CheckpointInterval must be at least 00:00:00.1");
        }

        if (!string.IsNullOrWhiteSpace(o.DetectorsFile))
        {
            try
            {
                DetectionConfigLoader.Load(o.DetectorsFile);
            }
            catch (DetectionConfigException ex)
            {
                errors.Add("Runtime:DetectorsFile: " + ex.Message);
            }
        }

        if (!string.IsNullOrWhiteSpace(o.InventoryFile) && !File.Exists(o.InventoryFile))
        {
            errors.Add($"Runtime:InventoryFile is '{o.InventoryFile}'; Runtime:InventoryFile must name an existing JSON file");
        }

        try
        {
            _ = new Grains.Runtime.NodeInventory(o.Inventory);
        }
        catch (ArgumentException ex)
        {
            errors.Add("Runtime:" + ex.Message);
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

internal sealed class ResponseOptionsValidator : IValidateOptions<ResponseOptions>
{
    public ValidateOptionsResult Validate(string? name, ResponseOptions o)
    {
        var errors = new List<string>();
        foreach (var (connector, settings) in o.Connectors)
        {
            errors.AddRange(ConnectorFactory.Validate(connector, settings));
        }

        var e = o.Executor;
        if (e.MaxAttempts is < 1 or > 1000)
        {
            errors.Add($"Response:Executor:MaxAttempts is {e.MaxAttempts}; it must be from 1 to 1000");
        }

        if (e.Concurrency is < 1 or > 64)
        {
            errors.Add($"Response:Executor:Concurrency is {e.Concurrency}; it must be from 1 to 64");
        }

        if (e.BaseBackoff <= TimeSpan.Zero || e.MaxBackoff < e.BaseBackoff)
        {
            errors.Add($"Response:Executor:BaseBackoff is {e.BaseBackoff} and MaxBackoff {e.MaxBackoff}; BaseBackoff must be positive and at most MaxBackoff");
        }

        if (e.PollInterval < TimeSpan.FromMilliseconds(50) || o.PollInterval < TimeSpan.FromMilliseconds(50))
        {
            errors.Add($"Response:PollInterval ({o.PollInterval}) and Response:Executor:PollInterval ({e.PollInterval}) must be at least 00:00:00.05");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

internal sealed class SiemOptionsValidator : IValidateOptions<Siem.SiemOptions>
{
    public ValidateOptionsResult Validate(string? name, Siem.SiemOptions o)
    {
        var errors = o.Sinks.SelectMany(s => s.Value.Validate(s.Key)).ToList();
        if (o.PollInterval < TimeSpan.FromMilliseconds(50))
        {
            errors.Add($"Siem:PollInterval is {o.PollInterval}; it must be at least 00:00:00.05");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

internal sealed class ObservabilityOptionsValidator : IValidateOptions<ObservabilityOptions>
{
    public ValidateOptionsResult Validate(string? name, ObservabilityOptions o)
    {
        var errors = new List<string>();
        if (o.OtlpProtocol is not ("grpc" or "http/protobuf"))
        {
            errors.Add($"Observability:OtlpProtocol is '{o.OtlpProtocol}'; allowed: grpc, http/protobuf");
        }

        if (o.OtlpEndpoint.Length > 0 && (!Uri.TryCreate(o.OtlpEndpoint, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")))
        {
            errors.Add($"Observability:OtlpEndpoint is '{o.OtlpEndpoint}'; it must be an absolute http(s) URL such as http://otel-collector:4317, or empty to export nothing");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

/// <summary>Validates options that check themselves (a <c>Validate()</c> returning one "X is V; X must be …" message per
/// problem).</summary>
internal sealed class SelfValidator<T>(Func<T, IReadOnlyList<string>> validate) : IValidateOptions<T>
    where T : class
{
    public ValidateOptionsResult Validate(string? name, T options)
    {
        var errors = validate(options);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
