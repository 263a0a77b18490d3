using AnomalyZT.Silo.Cluster.Bus;
using Microsoft.Extensions.Logging.Abstractions;

namespace AnomalyZT.Tests.Cluster;

/// <summary>Validation of the bus settings: every problem names its key, and no message carries the password.</summary>
public sealed class RabbitBusOptionsTests
{
    private static RabbitBusOptions Valid() => new() { Host = "127.0.0.1", Port = 5672, User = "silo", Password = "s3cret-value" };

    [Fact]
    public void Check_Defaults_NeedUserAndPassword()
    {
        var errors = RabbitBusOptionsValidator.Check(new RabbitBusOptions());

        Assert.Contains(errors, e => e.StartsWith("Cluster:RabbitMq:User is empty", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Cluster:RabbitMq:Password is empty", StringComparison.Ordinal));
        Assert.Empty(RabbitBusOptionsValidator.Check(Valid()));
    }

    [Theory]
    [InlineData(nameof(RabbitBusOptions.Port), "Cluster:RabbitMq:Port is 0")]
    [InlineData(nameof(RabbitBusOptions.PrefetchCount), "Cluster:RabbitMq:PrefetchCount is 70000")]
    [InlineData(nameof(RabbitBusOptions.PublishTimeout), "Cluster:RabbitMq:PublishTimeout is 00:00:00")]
    [InlineData(nameof(RabbitBusOptions.QueuePrefix), "Cluster:RabbitMq:QueuePrefix is 'amq.x'")]
    [InlineData(nameof(RabbitBusOptions.PublishChannels), "Cluster:RabbitMq:PublishChannels is 0")]
    public void Check_BadValue_NamesTheKeyAndTheValue(string key, string expected)
    {
        var options = Valid();
        switch (key)
        {
            case nameof(RabbitBusOptions.Port): options.Port = 0; break;
            case nameof(RabbitBusOptions.PrefetchCount): options.PrefetchCount = 70000; break;
            case nameof(RabbitBusOptions.PublishTimeout): options.PublishTimeout = TimeSpan.Zero; break;
            case nameof(RabbitBusOptions.QueuePrefix): options.QueuePrefix = "amq.x"; break;
            default: options.PublishChannels = 0; break;
        }

        var error = Assert.Single(RabbitBusOptionsValidator.Check(options));
        Assert.StartsWith(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_UriWithPassword_IsRefusedWithoutEchoingIt()
    {
        var options = Valid();
        options.Uri = "amqp://silo:hunter2-secret@broker:5672/prod";

        var error = Assert.Single(RabbitBusOptionsValidator.Check(options));
        Assert.StartsWith("Cluster:RabbitMq:Uri carries a password", error, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Describe_NamesBrokerAndUser_NeverThePassword()
    {
        var options = Valid();
        Assert.Equal("amqp://127.0.0.1:5672 vhost '/' as 'silo'", options.Describe());
        options.Uri = "amqps://silo@broker.example:5671/prod";
        Assert.Equal("amqps://broker.example:5671/prod as 'silo'", options.Describe());
        Assert.DoesNotContain("s3cret", options.Describe(), StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_PasswordFromUnsetVariable_FailsNamingTheKeyAndVariable()
    {
        var options = Valid();
        options.Password = "env:AZT_TEST_UNSET_RABBIT_PASSWORD";

        var error = Assert.Throws<InvalidOperationException>(() => new PartitionBus(options, NullLogger<PartitionBus>.Instance));
        Assert.Contains("Cluster:RabbitMq:Password", error.Message, StringComparison.Ordinal);
        Assert.Contains("AZT_TEST_UNSET_RABBIT_PASSWORD", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void QueueName_IsPrefixAndPartition()
    {
        Assert.Equal("anomalyzt.partition.7", new RabbitBusOptions().QueueName(7));
    }
}
