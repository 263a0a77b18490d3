using AnomalyZT.Ingest;

namespace AnomalyZT.Tests.Ingest;

public sealed class IngestOptionsTests
{
    [Fact]
    public void Validate_Defaults_NoErrors()
    {
        var options = new IngestOptions();

        Assert.Empty(options.Validate());
        Assert.Equal((16L * 1024 * 1024, 65536, 8192), (options.MaxBodyBytes, options.MaxLineBytes, options.MaxFieldBytes));
    }

    [Fact]
    public void Validate_BadLimits_NamesSettingAndValue()
    {
        var options = new IngestOptions { MaxBodyBytes = 10, MaxLineBytes = 100, MaxFieldBytes = 10 };

        Assert.Equal(
            [
                "Ingest:MaxBodyBytes is 10; Ingest:MaxBodyBytes must be at least 1024",
                "Ingest:MaxLineBytes is 100; Ingest:MaxLineBytes must be between 256 and 16777216",
                "Ingest:MaxFieldBytes is 10; Ingest:MaxFieldBytes must be between 64 and Ingest:MaxLineBytes (100)",
            ],
            options.Validate());
    }

    [Fact]
    public void Validate_LineLongerThanBody_Error()
    {
        var options = new IngestOptions { MaxBodyBytes = 2048, MaxLineBytes = 4096, MaxFieldBytes = 1024 };

        Assert.Equal(["Ingest:MaxLineBytes is 4096; Ingest:MaxLineBytes must not exceed Ingest:MaxBodyBytes (2048)"], options.Validate());
    }

    [Fact]
    public void Validate_BadPrincipalFields_OneErrorEach()
    {
        var options = new IngestOptions();
        options.Formats["envoy"] = new FormatOptions { PrincipalFields = ["ok.path", ".leading", " ", new string('a', 201)] };
        options.Formats["gpu"] = new FormatOptions { PrincipalFields = ["Hostname"] };
        options.Formats["netflow"] = new FormatOptions();

        var errors = options.Validate();

        Assert.Equal(5, errors.Count);
        Assert.Contains("Ingest:Formats:envoy:PrincipalFields contains '.leading'; Ingest:Formats:envoy:PrincipalFields entries must be dotted JSON paths such as 'user.username'", errors);
        Assert.Contains("Ingest:Formats:envoy:PrincipalFields contains a path of 201 bytes; Ingest:Formats:envoy:PrincipalFields entries must be at most 200 bytes", errors);
        Assert.Contains("Ingest:Formats:gpu:PrincipalFields is set; Ingest:Formats:gpu:PrincipalFields must be empty because gpu events carry no principal", errors);
        Assert.Contains("Ingest:Formats key is 'netflow'; Ingest:Formats keys must be one of generic, envoy, k8s-audit, zeek-conn, gpu", errors);
    }

    [Fact]
    public void Formats_KeyLookup_IsCaseInsensitive()
    {
        var options = new IngestOptions();
        options.Formats["K8S-Audit"] = new FormatOptions { PrincipalFields = ["user.uid"] };

        Assert.True(options.Formats.ContainsKey("k8s-audit"));
    }
}
