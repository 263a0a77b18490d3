using System.Globalization;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using AnomalyZT.Ingest;
using AnomalyZT.Silo.Cluster;
using AnomalyZT.Silo.Cluster.Bus;
using AnomalyZT.Silo.Hosting;
using AnomalyZT.Silo.Response;
using AnomalyZT.Silo.Runtime;
using AnomalyZT.Silo.Security;
using AnomalyZT.Silo.Siem;
using AnomalyZT.Silo.State;
using AnomalyZT.Silo.State.Postgres;
using AnomalyZT.Tests.Silo;
using Microsoft.Extensions.Configuration;
using Npgsql;

namespace AnomalyZT.Tests.Deployment;

/// <summary>There is no Docker engine on our machines, so <c>docker-compose.yml</c>, the <c>Dockerfile</c> and the
/// collector configuration are checked by reading them: every silo variable is a key the silo binds, every silo's
/// settings pass the silo's own validators, the silos form one cluster over the broker and database of the same file,
/// ports and secrets line up, and no password is written in the file.</summary>
public sealed partial class ComposeFileTests
{
    private static readonly ComposeFile Compose = ComposeFile.Load(Path.Combine(RepoPaths.Root, "docker-compose.yml"));
    private static readonly DockerfileModel Docker = DockerfileModel.Load(Path.Combine(RepoPaths.Root, "Dockerfile"));

    /// <summary>The silos: the services built from the repository's Dockerfile.</summary>
    private static List<ComposeService> Silos => [.. Compose.Services.Values.Where(s => s.Builds)];

    [Fact]
    public void Compose_RunsThreeSilosBesideRabbitMqPostgresAndACollector()
    {
        Assert.Equal(["silo1", "silo2", "silo3"], Silos.Select(s => s.Name).Order(StringComparer.Ordinal));
        Assert.StartsWith("rabbitmq:", Compose.Services["rabbitmq"].Image, StringComparison.Ordinal);
        Assert.StartsWith("postgres:", Compose.Services["postgres"].Image, StringComparison.Ordinal);
        Assert.StartsWith("otel/opentelemetry-collector-contrib:", Compose.Services["otel-collector"].Image, StringComparison.Ordinal);
    }

    [Fact]
    public void SiloVariables_AreAllAnomalyZtKeysTheSiloBinds()
    {
        var problems = new List<string>();
        var sources = Silos.Select(s => (Where: "docker-compose.yml " + s.Name, Variables: (IReadOnlyDictionary<string, string>)s.Environment))
            .Append(("Dockerfile", Docker.Final.Environment()));
        foreach (var (where, variables) in sources)
        {
            foreach (var variable in variables.Keys)
            {
                if (SiloConfigurationKeys.ToConfigurationKey(variable) is not { } key)
                {
                    // The Dockerfile may set other variables; a silo service is configured through ANOMALYZT_ only.
                    if (where != "Dockerfile")
                    {
                        problems.Add($"{where}: {variable} does not start with {SiloConfigurationKeys.EnvironmentPrefix}");
                    }

                    continue;
                }

                if (SiloConfigurationKeys.Problem(key) is { } problem)
                {
                    problems.Add($"{where}: {variable} → {problem}");
                }
            }
        }

        NoProblems(problems);
    }

    [Theory]
    [InlineData("Cluster:RabbitMq:Hots")]
    [InlineData("Cluster:LeaseTtlSeconds")]
    [InlineData("State:Postgres:Passwrd")]
    [InlineData("State:Postgress:Password")]
    [InlineData("Auth:Keys:0:Sha265")]
    [InlineData("Auth:Keys:first:Name")]
    [InlineData("Runtime:Partitions:0")]
    [InlineData("Cluster:RabbitMq")]
    [InlineData("Observabilty:OtlpEndpoint")]
    [InlineData("Url")]
    public void KeyCheck_Typo_FailsNamingTheKey(string key)
    {
        var problem = SiloConfigurationKeys.Problem(key);

        Assert.NotNull(problem);
        Assert.StartsWith(key + ":", problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Urls")]
    [InlineData("Runtime:Mode")]
    [InlineData("Runtime:Inventory:0:Cidr")]
    [InlineData("State:DataDirectory")]
    [InlineData("State:Postgres:Schema")]
    [InlineData("Cluster:BalanceInterval")]
    [InlineData("Cluster:RabbitMq:QueuePrefix")]
    [InlineData("Auth:Keys:12:Role")]
    [InlineData("Ingest:Formats:envoy:PrincipalFields:0")]
    [InlineData("Response:Connectors:scim:BaseUrl")]
    [InlineData("Siem:Sinks:soc:Port")]
    [InlineData("observability:otlpendpoint")]
    public void KeyCheck_RealKey_Passes(string key)
    {
        Assert.Null(SiloConfigurationKeys.Problem(key));
    }

    [Fact]
    public void SiloSettings_BindAndPassTheSilosOwnValidators()
    {
        var problems = new List<string>();
        foreach (var silo in Silos)
        {
            var config = Configuration(silo);
            problems.AddRange(Validate(silo, config).Select(p => silo.Name + ": " + p));
        }

        NoProblems(problems);
    }

    [Fact]
    public void Silos_FormOneCluster()
    {
        var configs = Silos.ToDictionary(s => s.Name, Configuration, StringComparer.Ordinal);
        var problems = new List<string>();
        foreach (var (name, config) in configs)
        {
            if (!string.Equals(config["Runtime:Mode"], "Cluster", StringComparison.OrdinalIgnoreCase))
            {
                problems.Add($"{name}: Runtime:Mode is '{config["Runtime:Mode"]}', not Cluster");
            }

            if (string.IsNullOrWhiteSpace(config["Cluster:SiloId"]))
            {
                problems.Add($"{name}: Cluster:SiloId is not set (the default, host name and process id, changes with every container)");
            }

            if (!config.GetSection("Auth:Keys").GetChildren().Any())
            {
                problems.Add($"{name}: Auth:Keys is empty, so the silo would generate keys of its own that no other silo knows");
            }
        }

        foreach (var duplicate in configs.GroupBy(c => c.Value["Cluster:SiloId"], StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            problems.Add($"Cluster:SiloId '{duplicate.Key}' is used by {string.Join(", ", duplicate.Select(d => d.Key))}");
        }

        // Settings the silos must agree on: the same queues, the same tables, the same partitioning, the same keys.
        string[] shared =
        [
            "Runtime:Partitions", "State:Postgres:ConnectionString", "State:Postgres:Schema", "State:Postgres:Password",
            "Cluster:LeaseTtl", "Cluster:RabbitMq:Host", "Cluster:RabbitMq:Port", "Cluster:RabbitMq:VirtualHost",
            "Cluster:RabbitMq:User", "Cluster:RabbitMq:Password", "Cluster:RabbitMq:QueuePrefix",
        ];
        foreach (var key in shared)
        {
            var values = configs.Select(c => c.Value[key]).Distinct(StringComparer.Ordinal).ToList();
            if (values.Count > 1)
            {
                // Values that may hold a secret are not echoed.
                var secretive = key.EndsWith("Password", StringComparison.Ordinal) || key.EndsWith("ConnectionString", StringComparison.Ordinal);
                problems.Add($"{key} differs between silos" + (secretive ? string.Empty : ": " + string.Join(" | ", values)));
            }
        }

        var keySets = configs.Select(c => string.Join(';', c.Value.GetSection("Auth:Keys").GetChildren()
            .Select(k => k["Name"] + "/" + k["Role"] + "/" + k["Sha256"]).Order(StringComparer.Ordinal))).Distinct(StringComparer.Ordinal).Count();
        if (keySets > 1)
        {
            problems.Add("Auth:Keys differ between silos: a key would work on one silo and not another");
        }

        NoProblems(problems);
    }

    [Fact]
    public void Silos_WaitForAHealthyBrokerAndDatabaseOfThisFile()
    {
        var problems = new List<string>();
        foreach (var silo in Silos)
        {
            var config = Configuration(silo);
            var rabbit = Bind<RabbitBusOptions>(config, RabbitBusOptions.SectionName);
            var postgres = new NpgsqlConnectionStringBuilder(config["State:Postgres:ConnectionString"]);
            foreach (var (what, host) in new[] { ("Cluster:RabbitMq:Host", rabbit.Host), ("State:Postgres:ConnectionString Host", postgres.Host ?? string.Empty) })
            {
                if (!Compose.Services.TryGetValue(host, out var server))
                {
                    problems.Add($"{silo.Name}: {what} is '{host}', which is no service of the compose file");
                    continue;
                }

                if (server.Healthcheck is null)
                {
                    problems.Add($"{silo.Name}: {host} has no healthcheck, so 'service_healthy' cannot be waited for");
                }

                if (silo.DependsOn.GetValueOrDefault(host) != "service_healthy")
                {
                    problems.Add($"{silo.Name}: depends_on {host} is '{silo.DependsOn.GetValueOrDefault(host)}', not 'condition: service_healthy'");
                }
            }

            // The official images' ports: AMQP 5672, PostgreSQL 5432.
            if (rabbit.Port != 5672)
            {
                problems.Add($"{silo.Name}: Cluster:RabbitMq:Port is {rabbit.Port}; the rabbitmq image listens on 5672");
            }

            if (postgres.Port != 5432)
            {
                problems.Add($"{silo.Name}: the PostgreSQL port is {postgres.Port}; the postgres image listens on 5432");
            }
        }

        Assert.Contains("rabbitmq-diagnostics", string.Join(' ', Compose.Services["rabbitmq"].Healthcheck ?? []), StringComparison.Ordinal);
        Assert.Contains("pg_isready", string.Join(' ', Compose.Services["postgres"].Healthcheck ?? []), StringComparison.Ordinal);
        NoProblems(problems);
    }

    [Fact]
    public void Credentials_SilosUseTheUserAndSecretTheServersWereGiven()
    {
        var rabbitServer = Compose.Services["rabbitmq"];
        var postgresServer = Compose.Services["postgres"];
        var problems = new List<string>();
        foreach (var silo in Silos)
        {
            var config = Configuration(silo);
            var postgres = new NpgsqlConnectionStringBuilder(config["State:Postgres:ConnectionString"]);
            Expect(problems, silo.Name + ": PostgreSQL user", postgresServer.Environment.GetValueOrDefault("POSTGRES_USER"), postgres.Username);
            Expect(problems, silo.Name + ": PostgreSQL database", postgresServer.Environment.GetValueOrDefault("POSTGRES_DB"), postgres.Database);
            Expect(problems, silo.Name + ": RabbitMQ user", rabbitServer.Environment.GetValueOrDefault("RABBITMQ_DEFAULT_USER"), config["Cluster:RabbitMq:User"]);

            // The password the server was initialised with is the secret the silo reads.
            var pgSecret = SecretBehind(silo, config["State:Postgres:Password"]);
            var pgServerSecret = SecretAt(postgresServer, postgresServer.Environment.GetValueOrDefault("POSTGRES_PASSWORD_FILE"));
            Expect(problems, silo.Name + ": PostgreSQL password secret", pgServerSecret, pgSecret);

            var rabbitSecret = SecretBehind(silo, config["Cluster:RabbitMq:Password"]);
            var startup = string.Join(' ', rabbitServer.Entrypoint.Concat(rabbitServer.Command));
            var rabbitServerSecret = rabbitServer.Secrets.FirstOrDefault(s => startup.Contains(s.Value, StringComparison.Ordinal)).Key;
            Expect(problems, silo.Name + ": RabbitMQ password secret (read into RABBITMQ_DEFAULT_PASS at start)", rabbitServerSecret, rabbitSecret);
        }

        NoProblems(problems);
    }

    [Fact]
    public void Secrets_AreDeclaredFromFilesThatHaveCommittedExamples()
    {
        var problems = new List<string>();
        Assert.NotEmpty(Compose.SecretFiles);
        foreach (var (name, file) in Compose.SecretFiles)
        {
            if (file.Length == 0)
            {
                problems.Add($"secret {name} has no file:");
                continue;
            }

            var full = Path.GetFullPath(Path.Combine(Compose.Directory, file));
            if (!full.StartsWith(Path.Combine(RepoPaths.Root, "deploy", "secrets") + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            {
                problems.Add($"secret {name} is read from {file}, outside deploy/secrets (which git and the image build ignore)");
            }

            if (!File.Exists(full + ".example"))
            {
                problems.Add($"secret {name}: {file}.example is missing, so nobody knows what to put in {file}");
            }
        }

        foreach (var service in Compose.Services.Values)
        {
            problems.AddRange(service.Secrets.Keys.Where(s => !Compose.SecretFiles.ContainsKey(s)).Select(s => $"{service.Name}: secret {s} is not declared under secrets:"));
        }

        NoProblems(problems);
    }

    [Fact]
    public void ComposeFile_WritesNoPassword()
    {
        var problems = new List<string>();
        foreach (var service in Compose.Services.Values)
        {
            foreach (var (variable, value) in service.Environment)
            {
                if (IsSecretName(variable) && !IsSecretReference(variable, value))
                {
                    problems.Add($"{service.Name}: {variable} holds a value, not a secret reference (file:/run/secrets/NAME, env:NAME, or *_FILE=/run/secrets/NAME)");
                }

                if (PasswordInConnectionString().IsMatch(value))
                {
                    problems.Add($"{service.Name}: {variable} is a connection string with a password in it; use State:Postgres:Password");
                }

                if (Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.UserInfo.Contains(':', StringComparison.Ordinal))
                {
                    problems.Add($"{service.Name}: {variable} is a URI with a password in it");
                }
            }

            foreach (Match assignment in PasswordAssignment().Matches(string.Join(' ', service.Entrypoint.Concat(service.Command))))
            {
                if (!assignment.Groups["value"].Value.Contains("/run/secrets/", StringComparison.Ordinal))
                {
                    problems.Add($"{service.Name}: the start command sets {assignment.Groups["name"].Value} from something other than a secret file");
                }
            }
        }

        // Nor were the example passwords pasted in.
        foreach (var example in Directory.GetFiles(Path.Combine(RepoPaths.Root, "deploy", "secrets"), "*.example"))
        {
            var placeholder = File.ReadAllText(example).Trim();
            if (placeholder.Length > 0 && Compose.Text.Contains(placeholder, StringComparison.Ordinal))
            {
                problems.Add($"the compose file contains the content of {Path.GetFileName(example)}");
            }
        }

        NoProblems(problems);
    }

    [Fact]
    public void Ports_UrlsMappingAndExposeAgree_AndHostPortsAreDistinctOnLoopback()
    {
        var problems = new List<string>();
        var exposed = Docker.Final.All("EXPOSE").SelectMany(e => e.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(p => int.Parse(p.Split('/')[0], CultureInfo.InvariantCulture)).ToList();
        var imageUrls = ParseUrls(Docker.Final.Environment().GetValueOrDefault("ANOMALYZT_Urls") ?? string.Empty);
        if (imageUrls.Count != 1 || !exposed.Contains(imageUrls[0].Port))
        {
            problems.Add($"Dockerfile: ENV ANOMALYZT_Urls ({string.Join(';', imageUrls)}) does not listen on an EXPOSEd port ({string.Join(' ', exposed)})");
        }

        foreach (var silo in Silos)
        {
            var urls = ParseUrls(Configuration(silo)["Urls"] ?? string.Empty);
            if (urls.Count != 1)
            {
                problems.Add($"{silo.Name}: Urls should name one address, not {urls.Count}");
                continue;
            }

            var (host, port) = urls[0];
            if (host is not ("0.0.0.0" or "*" or "+" or "[::]"))
            {
                problems.Add($"{silo.Name}: Urls listens on {host}, which is unreachable from outside the container; use 0.0.0.0");
            }

            if (!exposed.Contains(port))
            {
                problems.Add($"{silo.Name}: Urls port {port} is not EXPOSEd by the Dockerfile ({string.Join(' ', exposed)})");
            }

            if (silo.Ports.Count != 1 || silo.Ports[0].ContainerPort != port)
            {
                problems.Add($"{silo.Name}: ports ({string.Join(", ", silo.Ports.Select(p => p.Written))}) should publish exactly the Urls port {port}");
            }
        }

        var published = Compose.Services.Values.SelectMany(s => s.Ports).ToList();
        foreach (var mapping in published.Where(p => p.HostIp != "127.0.0.1" || p.HostPort is null))
        {
            problems.Add($"{mapping.Service}: '{mapping.Written}' must bind a fixed host port on 127.0.0.1 (127.0.0.1:HOST:CONTAINER)");
        }

        foreach (var clash in published.Where(p => p.HostPort is not null).GroupBy(p => p.HostPort).Where(g => g.Count() > 1))
        {
            problems.Add($"host port {clash.Key} is published by {string.Join(", ", clash.Select(c => c.Service))}");
        }

        NoProblems(problems);
    }

    [Fact]
    public void Otlp_EndpointIsTheCollectorServiceOnAPortItsReceiverListensOn()
    {
        var problems = new List<string>();
        foreach (var silo in Silos)
        {
            var config = Configuration(silo);
            var observability = Bind<ObservabilityOptions>(config, ObservabilityOptions.SectionName);
            if (!Uri.TryCreate(observability.OtlpEndpoint, UriKind.Absolute, out var endpoint))
            {
                problems.Add($"{silo.Name}: Observability:OtlpEndpoint '{observability.OtlpEndpoint}' is not an absolute URI");
                continue;
            }

            if (!Compose.Services.TryGetValue(endpoint.Host, out var collector))
            {
                problems.Add($"{silo.Name}: Observability:OtlpEndpoint names host {endpoint.Host}, which is no service of the compose file");
                continue;
            }

            if (!silo.DependsOn.ContainsKey(collector.Name))
            {
                problems.Add($"{silo.Name}: does not depend on {collector.Name}");
            }

            var collectorConfig = CollectorConfig(collector, problems);
            if (collectorConfig is null)
            {
                continue;
            }

            var protocol = observability.OtlpProtocol switch
            {
                "grpc" => "grpc",
                "http/protobuf" => "http",
                _ => null,
            };
            if (protocol is null)
            {
                problems.Add($"{silo.Name}: Observability:OtlpProtocol is '{observability.OtlpProtocol}'; allowed: grpc, http/protobuf");
                continue;
            }

            var receivers = Yaml.Map(Yaml.Get(collectorConfig, "receivers"), "receivers");
            var protocols = Yaml.Map(Yaml.Get(Yaml.Map(Yaml.Get(receivers, "otlp"), "otlp receiver"), "protocols"), "otlp protocols");
            if (!protocols.ContainsKey(protocol))
            {
                problems.Add($"{silo.Name}: the collector's otlp receiver has no {protocol} protocol");
                continue;
            }

            var listen = Yaml.Scalar(Yaml.Get(Yaml.Map(protocols[protocol], protocol), "endpoint")) ?? string.Empty;
            var colon = listen.LastIndexOf(':');
            if (colon < 0 || listen[(colon + 1)..] != endpoint.Port.ToString(CultureInfo.InvariantCulture))
            {
                problems.Add($"{silo.Name}: Observability:OtlpEndpoint port {endpoint.Port} is not the collector's {protocol} receiver endpoint '{listen}'");
            }
            else if (listen[..colon] is not ("0.0.0.0" or "[::]" or ""))
            {
                problems.Add($"collector: the {protocol} receiver listens on '{listen}', which other containers cannot reach");
            }
        }

        NoProblems(problems);
    }

    [Fact]
    public void Collector_PipelinesUseDefinedComponents_WithDebugAndPrometheusExporters()
    {
        var problems = new List<string>();
        var config = CollectorConfig(Compose.Services["otel-collector"], problems);
        Assert.NotNull(config);
        var exporters = Yaml.Map(Yaml.Get(config, "exporters"), "exporters");
        Assert.Contains("debug", exporters.Keys);
        Assert.Contains("prometheus", exporters.Keys);
        var pipelines = Yaml.Map(Yaml.Get(Yaml.Map(Yaml.Get(config, "service"), "service"), "pipelines"), "pipelines");
        Assert.Contains("metrics", pipelines.Keys);
        Assert.Contains("traces", pipelines.Keys);
        foreach (var (name, pipeline) in pipelines)
        {
            var map = Yaml.Map(pipeline, name);
            foreach (var kind in new[] { "receivers", "processors", "exporters" })
            {
                var defined = Yaml.Map(Yaml.Get(config, kind), kind).Keys;
                problems.AddRange(Yaml.Words(Yaml.Get(map, kind)).Where(c => !defined.Contains(c)).Select(c => $"pipeline {name} uses {kind} '{c}', which is not defined"));
            }
        }

        Assert.Contains("prometheus", Yaml.Words(Yaml.Get(Yaml.Map(pipelines["metrics"], "metrics"), "exporters")));
        var prometheus = Yaml.Scalar(Yaml.Get(Yaml.Map(exporters["prometheus"], "prometheus"), "endpoint")) ?? string.Empty;
        var prometheusPort = int.Parse(prometheus[(prometheus.LastIndexOf(':') + 1)..], CultureInfo.InvariantCulture);
        Assert.Contains(prometheusPort, Compose.Services["otel-collector"].Ports.Select(p => p.ContainerPort));
        NoProblems(problems);
    }

    [Fact]
    public void Dockerfile_PublishesTheSiloInTheSdkAndRunsItAsNonRootOnTheAspNetImage()
    {
        Assert.True(Docker.Stages.Count >= 2, "the Dockerfile should be multi-stage");
        var build = Docker.Stages[0];
        Assert.Equal("mcr.microsoft.com/dotnet/sdk:10.0", build.Image);
        Assert.Equal("mcr.microsoft.com/dotnet/aspnet:10.0", Docker.Final.Image);

        var publish = Assert.Single(build.All("RUN"), r => r.Contains("dotnet publish", StringComparison.Ordinal));
        Assert.Contains("dotnet publish Silo/Silo.csproj", publish, StringComparison.Ordinal);
        Assert.Contains("-c Release", publish, StringComparison.Ordinal);
        Assert.Contains("-o /app", publish, StringComparison.Ordinal);
        Assert.Contains(Docker.Final.All("COPY"), c => c.StartsWith("--from=" + build.Name + " /app ", StringComparison.Ordinal));
        Assert.Equal("/app", Docker.Final.Last("WORKDIR"));

        // The ENTRYPOINT names the assembly the Silo project really builds.
        var assembly = typeof(SiloHost).Assembly.GetName().Name + ".dll";
        Assert.Equal(["dotnet", assembly], DockerStage.ExecForm(Docker.Final.Last("ENTRYPOINT") ?? "null"));

        var user = Docker.Final.Last("USER");
        Assert.False(string.IsNullOrWhiteSpace(user), "the runtime stage should switch to a non-root USER");
        Assert.False(user!.Split(':')[0] is "root" or "0", "USER " + user + " runs the silo as root");

        // The data folder is a volume, in the image and in every silo service.
        var dataDirectory = Docker.Final.Environment().GetValueOrDefault("ANOMALYZT_State__DataDirectory");
        Assert.NotNull(dataDirectory);
        Assert.Contains(dataDirectory, Docker.Final.All("VOLUME").SelectMany(v => v.Split(' ', StringSplitOptions.RemoveEmptyEntries)));
        foreach (var silo in Silos)
        {
            Assert.Contains(Configuration(silo)["State:DataDirectory"], silo.Volumes.Select(v => v.Target));
        }
    }

    [Fact]
    public void Dockerfile_CopiesEveryProjectTheSiloNeeds()
    {
        var sources = Docker.Stages[0].All("COPY").Where(c => !c.StartsWith("--", StringComparison.Ordinal))
            .SelectMany(c => c.Split(' ', StringSplitOptions.RemoveEmptyEntries)[..^1]).ToList();
        var problems = sources.Where(s => !File.Exists(Path.Combine(RepoPaths.Root, s)) && !Directory.Exists(Path.Combine(RepoPaths.Root, s)))
            .Select(s => $"COPY {s}: no such file or folder in the repository").ToList();

        var projects = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>([Path.Combine(RepoPaths.Root, "Silo", "Silo.csproj")]);
        while (pending.TryPop(out var project))
        {
            if (!projects.Add(Path.GetFullPath(project)))
            {
                continue;
            }

            foreach (var reference in XDocument.Load(project).Descendants("ProjectReference"))
            {
                var include = reference.Attribute("Include")!.Value.Replace('\\', Path.DirectorySeparatorChar);
                pending.Push(Path.GetFullPath(Path.Combine(Path.GetDirectoryName(project)!, include)));
            }
        }

        foreach (var folder in projects.Select(p => Path.GetRelativePath(RepoPaths.Root, Path.GetDirectoryName(p)!).Replace('\\', '/')))
        {
            if (!sources.Contains(folder + "/") && !sources.Contains(folder))
            {
                problems.Add($"the build stage does not COPY {folder}/, which Silo.csproj needs");
            }
        }

        NoProblems(problems);
        var ignored = File.ReadAllLines(Path.Combine(RepoPaths.Root, ".dockerignore")).Select(l => l.Trim()).ToList();
        foreach (var pattern in new[] { "**/bin/", "**/obj/", "deploy/secrets/" })
        {
            Assert.Contains(pattern, ignored);
        }
    }

    [Fact]
    public void Healthchecks_AskHealthzOnTheUrlsPort_WithToolsTheImageHas()
    {
        // mcr.microsoft.com/dotnet/aspnet:10.0 (Ubuntu 24.04) has neither curl nor wget (dotnet/dotnet-docker#2379).
        var problems = new List<string>();
        foreach (var healthcheck in Docker.Final.All("HEALTHCHECK").Where(HasHttpClient))
        {
            problems.Add($"Dockerfile: HEALTHCHECK {healthcheck} calls a tool the aspnet image does not have");
        }

        foreach (var silo in Silos)
        {
            var port = ParseUrls(Configuration(silo)["Urls"] ?? string.Empty).Select(u => u.Port).FirstOrDefault();
            var test = string.Join(' ', silo.Healthcheck ?? []);
            if (test.Length == 0)
            {
                problems.Add($"{silo.Name}: no healthcheck");
                continue;
            }

            if (HasHttpClient(test))
            {
                problems.Add($"{silo.Name}: the healthcheck calls a tool the aspnet image does not have: {test}");
            }

            var portText = port.ToString(CultureInfo.InvariantCulture);
            if (!test.Contains("/healthz", StringComparison.Ordinal)
                || !(test.Contains("/" + portText + " ", StringComparison.Ordinal) || test.Contains(":" + portText + "/", StringComparison.Ordinal)))
            {
                problems.Add($"{silo.Name}: the healthcheck should ask GET /healthz on port {port}: {test}");
            }
        }

        NoProblems(problems);

        static bool HasHttpClient(string command) => command.Split(' ', '"', '\'', ';', '&', '|').Any(w => w is "curl" or "wget");
    }

    /// <summary>The silo's configuration as the container would build it: appsettings.json, then the image's ENV, then
    /// the service's environment (<c>ANOMALYZT_</c> stripped, <c>__</c> → <c>:</c>, as the environment provider does).</summary>
    private static IConfigurationRoot Configuration(ComposeService silo) => new ConfigurationBuilder()
        .AddJsonFile(Path.Combine(RepoPaths.Root, "Silo", "appsettings.json"), optional: false)
        .AddInMemoryCollection(AsConfiguration(Docker.Final.Environment()))
        .AddInMemoryCollection(AsConfiguration(silo.Environment))
        .Build();

    private static IEnumerable<KeyValuePair<string, string?>> AsConfiguration(IReadOnlyDictionary<string, string> variables) =>
        variables.Select(v => (Key: SiloConfigurationKeys.ToConfigurationKey(v.Key), v.Value))
            .Where(v => v.Key is not null)
            .Select(v => new KeyValuePair<string, string?>(v.Key!, v.Value));

    private static T Bind<T>(IConfiguration config, string section)
        where T : new()
    {
        var options = new T();
        config.GetSection(section).Bind(options);
        return options;
    }

    /// <summary>Binds every options class the silo validates at start and runs the silo's own validators on them.</summary>
    private static List<string> Validate(ComposeService silo, IConfigurationRoot config)
    {
        var problems = new List<string>();
        try
        {
            var runtime = Bind<EmbeddedRuntimeOptions>(config, EmbeddedRuntimeOptions.SectionName);
            problems.AddRange(Failures(new EmbeddedRuntimeOptionsValidator().Validate(null, runtime)));
            if (SqliteStoreOptionsValidator.Check(Bind<SqliteStoreOptions>(config, SqliteStoreOptions.SectionName)) is { } sqlite)
            {
                problems.Add(sqlite);
            }

            problems.AddRange(Bind<IngestOptions>(config, IngestOptions.SectionName).Validate());
            problems.AddRange(Bind<ClusterOptions>(config, ClusterOptions.SectionName).Validate());
            problems.AddRange(Failures(new ResponseOptionsValidator().Validate(null, Bind<ResponseOptions>(config, ResponseOptions.SectionName))));
            problems.AddRange(Failures(new SiemOptionsValidator().Validate(null, Bind<SiemOptions>(config, SiemOptions.SectionName))));
            _ = new ApiKeyRegistry(Bind<AuthOptions>(config, AuthOptions.SectionName).Keys);

            // RabbitBusOptionsValidator only requires a password to be set; that it is a usable reference is checked here.
            var rabbit = Bind<RabbitBusOptions>(config, RabbitBusOptions.SectionName);
            problems.AddRange(RabbitBusOptionsValidator.Check(rabbit));
            problems.AddRange(SecretReferenceProblems(silo, RabbitBusOptions.SectionName + ":Password", rabbit.Password));

            // PostgresStoreOptionsValidator resolves secret references, and /run/secrets exists only in the container:
            // the reference's form is checked instead (a mounted compose secret with a committed example), and the
            // validator runs with a stand-in literal in its place.
            var postgres = Bind<PostgresStoreOptions>(config, PostgresStoreOptions.SectionName);
            var postgresReferenceProblems = SecretReferenceProblems(silo, PostgresStoreOptions.SectionName + ":Password", postgres.Password);
            problems.AddRange(postgresReferenceProblems);
            if (postgresReferenceProblems.Count == 0)
            {
                postgres.Password = "stand-in-for-validation";
            }

            if (PostgresStoreOptionsValidator.Check(postgres) is { } pg)
            {
                problems.Add(pg);
            }
            else if (!string.IsNullOrEmpty(new NpgsqlConnectionStringBuilder(postgres.ConnectionString).Password))
            {
                problems.Add("State:Postgres:ConnectionString carries a password; put it in State:Postgres:Password as a secret reference");
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or FormatException)
        {
            // A value the binder cannot convert, or an invalid API key entry.
            problems.Add(ex.Message);
        }

        return problems;
    }

    private static IEnumerable<string> Failures(Microsoft.Extensions.Options.ValidateOptionsResult result) =>
        result.Failed ? result.Failures ?? [result.FailureMessage] : [];

    /// <summary>Problems with a secret reference: <c>file:</c> must name where one of the service's compose secrets is
    /// mounted; <c>env:</c> a variable the service sets; anything else is a literal.</summary>
    private static List<string> SecretReferenceProblems(ComposeService silo, string key, string value)
    {
        if (value.StartsWith("env:", StringComparison.Ordinal))
        {
            return silo.Environment.ContainsKey(value[4..]) ? [] : [$"{key} names variable {value[4..]}, which the service does not set"];
        }

        if (!value.StartsWith("file:", StringComparison.Ordinal))
        {
            return [$"{key} is not a secret reference (file:/run/secrets/NAME or env:NAME)"];
        }

        return SecretBehind(silo, value) is null ? [$"{key} names {value[5..]}, where none of the service's secrets is mounted"] : [];
    }

    /// <summary>The compose secret a <c>file:</c> reference reads, or null.</summary>
    private static string? SecretBehind(ComposeService service, string? reference) =>
        reference is not null && reference.StartsWith("file:", StringComparison.Ordinal) ? SecretAt(service, reference[5..]) : null;

    private static string? SecretAt(ComposeService service, string? path) =>
        service.Secrets.FirstOrDefault(s => s.Value == path).Key;

    private static Dictionary<string, object?>? CollectorConfig(ComposeService collector, List<string> problems)
    {
        var words = collector.Command;
        var configPath = words.Select((w, i) => w.StartsWith("--config=", StringComparison.Ordinal) ? w["--config=".Length..]
            : w == "--config" && i + 1 < words.Count ? words[i + 1] : null).FirstOrDefault(p => p is not null);
        var mount = collector.Volumes.FirstOrDefault(v => v.Target == configPath);
        if (configPath is null || mount.Source is null)
        {
            problems.Add($"{collector.Name}: its --config ({configPath}) is not a file mounted from the repository");
            return null;
        }

        var file = Path.Combine(Compose.Directory, mount.Source);
        if (!File.Exists(file))
        {
            problems.Add($"{collector.Name}: mounts {mount.Source}, which does not exist");
            return null;
        }

        return Yaml.Map(Yaml.Load(File.ReadAllText(file)), mount.Source);
    }

    /// <summary>Host and port of each address in a semicolon-separated <c>Urls</c> value.</summary>
    private static List<(string Host, int Port)> ParseUrls(string urls) =>
    [
        .. urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(u =>
        {
            var authority = u[(u.IndexOf("://", StringComparison.Ordinal) + 3)..].TrimEnd('/');
            var colon = authority.LastIndexOf(':');
            return (authority[..colon], int.Parse(authority[(colon + 1)..], CultureInfo.InvariantCulture));
        }),
    ];

    private static bool IsSecretName(string variable)
    {
        var upper = variable.ToUpperInvariant();
        return upper.Contains("PASS", StringComparison.Ordinal) || upper.Contains("SECRET", StringComparison.Ordinal)
            || upper.Contains("TOKEN", StringComparison.Ordinal) || upper.Contains("HMAC", StringComparison.Ordinal);
    }

    private static bool IsSecretReference(string variable, string value) =>
        value.StartsWith("file:/run/secrets/", StringComparison.Ordinal)
        || value.StartsWith("env:", StringComparison.Ordinal)
        || (variable.EndsWith("_FILE", StringComparison.Ordinal) && value.StartsWith("/run/secrets/", StringComparison.Ordinal));

    private static void Expect(List<string> problems, string what, string? expected, string? actual)
    {
        if (string.IsNullOrEmpty(expected) || !string.Equals(expected, actual, StringComparison.Ordinal))
        {
            problems.Add($"{what}: the server has '{expected}', the silo uses '{actual}'");
        }
    }

    private static void NoProblems(List<string> problems)
    {
        if (problems.Count > 0)
        {
            Assert.Fail(problems.Count + " problem(s):\n" + string.Join('\n', problems));
        }
    }

    [GeneratedRegex(@"(^|;)\s*(password|pwd)\s*=\s*[^;\s]", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex PasswordInConnectionString();

    [GeneratedRegex(@"(?<name>[A-Za-z_]*PASS[A-Za-z_]*)=(?<value>""[^""]*""|\S+)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex PasswordAssignment();
}
